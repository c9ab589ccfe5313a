/*
 * flink sharing between two processes, each with a drm file of its own: A
 * opens card0 first (so it is the master), creates an object and writes to
 * it, authenticates B (GET_MAGIC in B, AUTH_MAGIC in A, so this holds for
 * root and for users), flinks the object and hands B the name; B opens the
 * name, reads A's data through a mapping of its own and writes back; the
 * name goes with the last handle.
 */
#include "check.h"

int main(void)
{
	struct channel magic_ch = channel(), name_ch = channel(), done_ch = channel();
	int fd = open_card();
	pid_t b = fork();
	CHECK(b >= 0, "fork");
	if (b == 0) {
		writer(&magic_ch);
		reader(&name_ch);
		writer(&done_ch);
		close(fd);
		fd = open_card();
		drm_magic_t magic;
		CHECK(drmGetMagic(fd, &magic) == 0, "B: get_magic");
		send_u32(magic_ch, magic);
		uint32_t name = recv_u32(name_ch);
		struct drm_gem_open o = { .name = name };
		CHECK(drmIoctl(fd, DRM_IOCTL_GEM_OPEN, &o) == 0, "B: gem_open %u", name);
		CHECK(o.size == 65536, "B: the object's size is 65536, not %llu", (unsigned long long)o.size);
		struct bo bo = { o.handle, 0, o.size };
		uint32_t *p = map_bo(fd, &bo);
		CHECK(p[0] == 0xf1a5 && p[16383] == 0xbeef, "B reads A's words: %x %x", p[0], p[16383]);
		OK("B opened name %u (handle %u) and reads what A wrote", name, o.handle);
		p[1] = 0xb0b0;
		send_u32(done_ch, 1);
		return 0;
	}
	reader(&magic_ch);
	writer(&name_ch);
	reader(&done_ch);
	struct bo bo = create_bo(fd, 128, 128, 32);
	uint32_t *p = map_bo(fd, &bo);
	p[0] = 0xf1a5;
	p[16383] = 0xbeef;
	uint32_t magic = recv_u32(magic_ch);
	CHECK(drmAuthMagic(fd, magic) == 0, "A: auth_magic %u", magic);
	uint32_t name = flink(fd, bo.handle);
	CHECK(name != 0, "a name is not 0");
	CHECK(flink(fd, bo.handle) == name, "flinking again gives the same name");
	OK("A flinked handle %u as name %u", bo.handle, name);
	send_u32(name_ch, name);
	recv_u32(done_ch);
	CHECK(p[1] == 0xb0b0, "A sees B's store: %x", p[1]);
	OK("A sees the word B stored");
	reap(b, "B");
	munmap(p, bo.size);
	gem_close(fd, bo.handle);
	struct drm_gem_open o = { .name = name };
	CHECK_ERRNO(drmIoctl(fd, DRM_IOCTL_GEM_OPEN, &o), ENOENT, "gem_open of a name whose last handle is gone");
	OK("the name went with the last handle (B's at its exit, A's at gem_close)");
	close(fd);
	return 0;
}

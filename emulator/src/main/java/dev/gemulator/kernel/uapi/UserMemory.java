package dev.gemulator.kernel.uapi;

import java.io.ByteArrayOutputStream;

/**
 * The calling task's user memory as copy_from_user and copy_to_user see it
 * during one system call. Where the memory really lives depends on the
 * caller: a gemscript runner or Java client keeps buffers of its own
 * ({@link UserBuffers}); a program behind the C shim sends the bytes its
 * call points at and applies what the kernel wrote when the answer comes.
 */
public interface UserMemory {
    /** copy_from_user: {@code length} bytes at {@code address}, or null when they are not readable (EFAULT). */
    byte[] read(long address, int length);

    /** copy_to_user: false when the range is not writable (EFAULT). */
    boolean write(long address, byte[] data);

    /** strncpy_from_user: the NUL-terminated string at {@code address}, at most {@code max} bytes, or null (EFAULT). */
    default byte[] readString(long address, int max) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < max; i++) {
            byte[] b = read(address + i, 1);
            if (b == null) {
                return null;
            }
            if (b[0] == 0) {
                break;
            }
            out.write(b[0]);
        }
        return out.toByteArray();
    }

    /** A task with no user memory: every access faults. */
    UserMemory NONE = new UserMemory() {
        @Override
        public byte[] read(long address, int length) {
            return length == 0 ? new byte[0] : null;
        }

        @Override
        public boolean write(long address, byte[] data) {
            return data.length == 0;
        }
    };
}

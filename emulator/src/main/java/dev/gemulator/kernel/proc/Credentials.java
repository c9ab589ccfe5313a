package dev.gemulator.kernel.proc;

/**
 * A real process's identity as the kernel sees it (struct cred and the
 * thread-group id): what a program behind the C shim brings to the model in
 * place of the emulated root that gemscript processes start as.
 *
 * @param pid the thread-group id (what getpid returns and GET_CLIENT answers)
 * @param uid the effective uid
 * @param gid the effective gid
 * @param capSysAdmin whether CAP_SYS_ADMIN is in the effective set
 */
public record Credentials(int pid, int uid, int gid, boolean capSysAdmin) {

    /** The same process with other ids and capabilities (setuid, setgid, capset). */
    public Credentials with(int uid, int gid, boolean capSysAdmin) {
        return new Credentials(pid, uid, gid, capSysAdmin);
    }
}

package dev.gemulator.client;

import dev.gemulator.proto.v1.ClockGettime;
import dev.gemulator.proto.v1.Sleep;
import dev.gemulator.proto.v1.Syscall;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The device's clock as a process reads it: clock_gettime and nanosleep on
 * the run's virtual time. Under a seeded server virtual time moves only with
 * the kernel's steps and jumps when every thread sleeps, so a program that
 * loops "for 5 seconds" of this clock makes the same calls every time, and a
 * sleep of an hour costs no real time. Every reading is a system call of the
 * calling thread (a thread of the process).
 */
public final class VirtualClock {
    /** CLOCK_REALTIME. */
    public static final int REALTIME = 0;
    /** CLOCK_MONOTONIC. */
    public static final int MONOTONIC = 1;

    private final ClientProcess process;

    private VirtualClock(ClientProcess process) {
        this.process = process;
    }

    /**
     * The clock of a process's device.
     *
     * @param process the process that reads it (each reading is a call of the calling thread)
     * @return its clock
     */
    public static VirtualClock of(ClientProcess process) {
        return new VirtualClock(process);
    }

    /**
     * clock_gettime on a clock.
     *
     * @param clock the clock id as Linux numbers it ({@link #REALTIME}, {@link #MONOTONIC}, ...)
     * @return the time in nanoseconds
     */
    public long read(int clock) {
        return process.call(Syscall.newBuilder().setClockGettime(ClockGettime.newBuilder().setClock(clock)).build(),
                "clock_gettime").getValues(0);
    }

    /**
     * CLOCK_MONOTONIC, System.nanoTime's counterpart.
     *
     * @return nanoseconds since the device booted
     */
    public long nanoTime() {
        return read(MONOTONIC);
    }

    /**
     * CLOCK_REALTIME, System.currentTimeMillis's counterpart.
     *
     * @return milliseconds since the epoch
     */
    public long currentTimeMillis() {
        return read(REALTIME) / 1_000_000;
    }

    /**
     * CLOCK_REALTIME as an instant.
     *
     * @return the instant
     */
    public Instant instant() {
        long ns = read(REALTIME);
        return Instant.ofEpochSecond(ns / 1_000_000_000L, ns % 1_000_000_000L);
    }

    /**
     * nanosleep in virtual time.
     *
     * @param millis how long
     */
    public void sleep(long millis) {
        sleepNanos(Math.multiplyExact(millis, 1_000_000L));
    }

    /**
     * nanosleep in virtual time, to the nanosecond.
     *
     * @param nanos how long
     */
    public void sleepNanos(long nanos) {
        process.call(Syscall.newBuilder().setSleep(Sleep.newBuilder().setNanoseconds(nanos)).build(), "sleep");
    }

    /**
     * This clock as a {@link java.time.Clock} (UTC), for code that takes one.
     *
     * @return a clock whose every reading is a clock_gettime
     */
    public Clock asClock() {
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                throw new UnsupportedOperationException("the virtual clock is in UTC");
            }

            @Override
            public Instant instant() {
                return VirtualClock.this.instant();
            }
        };
    }
}

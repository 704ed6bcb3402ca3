package io.hangar.frontend.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.Out;

/** The libfuse 2 calls jnr-fuse does not bind: about the request a callback is serving. Public for jnr-ffi. */
public interface LibFuseExtras {
    /** Non-zero once the kernel interrupted the request this thread serves (its caller got a signal). */
    int fuse_interrupted();

    /** Fills the supplementary groups of the requesting process; returns how many there are. */
    int fuse_getgroups(int size, @Out int[] list);

    static LibFuseExtras load() {
        try {
            return LibraryLoader.create(LibFuseExtras.class).failImmediately().load("fuse");
        } catch (LinkageError | RuntimeException e) {
            // Debian ships only the versioned name without the -dev package.
            return LibraryLoader.create(LibFuseExtras.class).failImmediately().load("libfuse.so.2");
        }
    }
}

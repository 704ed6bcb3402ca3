package io.hangar.vfs.standalone;

import io.hangar.vfs.Volume;
import io.hangar.fs.FsException;

/** A volume opened outside the framework; closing it flushes open files and disconnects. */
public interface OpenVolume extends Volume, AutoCloseable {
    @Override
    void close() throws FsException;
}

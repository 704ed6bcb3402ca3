package io.hangar.spi.store;

/** What a store knows of one object. */
public record ObjectInfo(String key, long size, long modifiedMs) {
}

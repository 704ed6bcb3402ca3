package io.hangar.spi.meta;

/** A stored slice, identified by id and object length: what block deletion needs to name its keys. */
public record SliceRef(long id, int size) {
}

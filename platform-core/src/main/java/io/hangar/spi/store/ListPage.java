package io.hangar.spi.store;

import java.util.List;

/**
 * One page of a listing in key order. {@code next} is the cursor for the following page (pass it as
 * {@code startAfter}), or null when the listing is complete.
 */
public record ListPage(List<ObjectInfo> objects, String next) {
}

package io.hangar.core.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** What a destination records of its syncs keeps no credentials, and keys are per source and name. */
class StatusLogTest {
    @Test
    void credentialsInUrlsAreLeftOut() {
        assertEquals("redis://10.0.0.5:6379/1", StatusLog.withoutCredentials("redis://:s3cret@10.0.0.5:6379/1"));
        assertEquals("EIO: redis://h/1 unreachable, then rados://pool?conf=/etc/ceph.conf",
                StatusLog.withoutCredentials("EIO: redis://user:pw@h/1 unreachable, then rados://pool?conf=/etc/ceph.conf"));
        assertEquals("sqlite:///srv/meta.db", StatusLog.withoutCredentials("sqlite:///srv/meta.db"));
        assertEquals("", StatusLog.withoutCredentials(null));
    }

    @Test
    void keysAreOnePerSourceAndName() {
        assertEquals(StatusLog.key("redis://a/1", "cli"), StatusLog.key("redis://a/1", "cli"));
        assertNotEquals(StatusLog.key("redis://a/1", "cli"), StatusLog.key("redis://b/1", "cli"));
        assertNotEquals(StatusLog.key("redis://a/1", "cli"), StatusLog.key("redis://a/1", "tags sync-b"));
    }
}

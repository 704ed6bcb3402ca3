package io.hangar.frontend.http.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetTest {
    @Test
    void whatFitsIsTakenAtOnceAndWhatDoesNotWaitsInArrivalOrder() {
        Budget b = new Budget(10);
        List<String> woken = new ArrayList<>();
        assertTrue(b.acquire(6, () -> woken.add("never")));
        assertFalse(b.acquire(6, () -> woken.add("six")));
        // Fits, but must not overtake the waiter before it.
        assertFalse(b.acquire(1, () -> woken.add("one")));
        assertEquals(6, b.used());
        b.release(6);
        assertEquals(List.of("six", "one"), woken);
        assertEquals(7, b.used());
        b.release(7);
        assertEquals(0, b.used());
        assertEquals(7, b.peak());
    }

    @Test
    void aRequestLargerThanTheWholeBudgetGetsItWhenNothingElseIsHeld() {
        Budget b = new Budget(10);
        List<String> woken = new ArrayList<>();
        b.take(1);
        assertFalse(b.acquire(20, () -> woken.add("big")));
        b.release(1);
        assertEquals(List.of("big"), woken);
        assertEquals(20, b.used());
    }

    @Test
    void bodiesThatArrivedAreCountedPastTheLimitAndWaitersWakeOnceBelowIt() {
        Budget b = new Budget(10);
        List<String> woken = new ArrayList<>();
        b.take(8);
        b.take(8);
        assertTrue(b.over());
        b.await(() -> woken.add("put"));
        assertEquals(List.of(), woken);
        b.release(8);
        assertEquals(List.of("put"), woken);
        assertFalse(b.over());
        assertEquals(16, b.peak());
    }
}

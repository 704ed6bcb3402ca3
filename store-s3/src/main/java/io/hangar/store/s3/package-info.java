/** The {@code s3://} chunk store provider; the store itself is in {@code io.hangar.store.s3.common}. */
package io.hangar.store.s3;

/** The {@code oss://} chunk store provider: OSS through the S3 store of store-s3, embedded privately. */
package io.hangar.store.oss;

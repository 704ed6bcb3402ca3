/**
 * The S3 chunk store over the AWS SDK v2, shared by store-s3 and store-oss (store-oss embeds this package
 * privately: it is never exported).
 */
package io.hangar.store.s3.common;

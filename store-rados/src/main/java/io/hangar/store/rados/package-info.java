/**
 * The chunk store on a Ceph RADOS pool: one object per block, listed in key order through an omap index
 * per key directory. rados-java and JNA are embedded privately; librados2 comes from the host.
 */
package io.hangar.store.rados;

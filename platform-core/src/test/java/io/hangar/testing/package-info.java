/**
 * Support every module's tests share: real servers started on loopback by the test itself (shipped in
 * platform-core's test artifact next to the conformance kits).
 */
package io.hangar.testing;

/** The chunk store on a local directory: one file per block object, written atomically and fsynced. */
package io.hangar.store.file;

/**
 * The metadata engine on an embedded SQLite file ({@code sqlite:///path/meta.db}): Hangar's default, for a
 * single host. Implementation package: only the provider is registered, as a service and in
 * {@code META-INF/services}.
 */
package io.hangar.meta.sqlite;

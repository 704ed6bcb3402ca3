package io.hangar.frontend.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a shared library (libfuse3.so.3) is on this machine, whatever its architecture: the
 * dynamic loader's cache as {@code ldconfig -p} lists it (read to its end, never cut short: a pipe closed
 * early kills ldconfig), else the multiarch library directories ({@code /lib/<triplet>},
 * {@code /usr/lib/<triplet>}) and the plain ones.
 */
public final class SharedLibraries {
    /** The directories searched when the loader's cache does not name the library, for messages. */
    public static final String DIRS = "/lib/*-linux-gnu*, /usr/lib/*-linux-gnu*, /lib64, /usr/lib64, /lib, /usr/lib";
    private static final List<String> LDCONFIG = List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig");

    private SharedLibraries() {
    }

    public static Optional<Path> find(String name) {
        return find(name, LDCONFIG, Path.of("/"));
    }

    /** The first ldconfig of {@code ldconfigs} that runs decides from its listing; then the directories below {@code root}. */
    public static Optional<Path> find(String name, List<String> ldconfigs, Path root) {
        for (String ldconfig : ldconfigs) {
            Optional<String> listing = listing(ldconfig);
            if (listing.isPresent()) {
                Optional<Path> lib = fromListing(name, listing.get()).filter(Files::exists);
                if (lib.isPresent()) {
                    return lib;
                }
                break;
            }
        }
        return inDirectories(name, root);
    }

    /** The path of {@code name} in an {@code ldconfig -p} listing ("\tNAME (libc6,AArch64) => /lib/…/NAME"). */
    public static Optional<Path> fromListing(String name, String listing) {
        for (String line : listing.split("\n")) {
            String t = line.trim();
            int arrow = t.lastIndexOf(" => ");
            if (t.startsWith(name + " ") && arrow > 0) {
                return Optional.of(Path.of(t.substring(arrow + 4).trim()));
            }
        }
        return Optional.empty();
    }

    static Optional<Path> inDirectories(String name, Path root) {
        List<Path> dirs = new ArrayList<>();
        for (String base : List.of("lib", "usr/lib")) {
            try (DirectoryStream<Path> multiarch = Files.newDirectoryStream(root.resolve(base), "*-linux-gnu*")) {
                multiarch.forEach(dirs::add);
            } catch (IOException e) {
                // No such directory here.
            }
        }
        for (String d : List.of("lib64", "usr/lib64", "lib", "usr/lib")) {
            dirs.add(root.resolve(d));
        }
        return dirs.stream().map(d -> d.resolve(name)).filter(Files::exists).findFirst();
    }

    private static Optional<String> listing(String ldconfig) {
        try {
            Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
            // Read it all before waiting: the process must never block on (or die of) a full pipe.
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}

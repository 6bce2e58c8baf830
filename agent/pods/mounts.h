/* Filesystem trees under the runtime's dirs: mkdir -p, rm -rf that never crosses a mount,
 * small file writes, and the host's view of what is still mounted below a path. */
#ifndef SKIFF_AGENT_PODS_MOUNTS_H
#define SKIFF_AGENT_PODS_MOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

int fs_mkdir_p(const char *path, mode_t mode);
/* Removes path and everything below it; refuses (-EBUSY) to descend into a mount point, so a
 * leaked bind mount never takes the host's files with it. 0 when path is already gone. */
int fs_rm_rf(const char *path);
/* Writes content to path atomically (temp file + rename). */
int fs_write_file(const char *path, const char *content, mode_t mode);
/* Reads a whole small file into a new string (caller frees). */
int fs_read_file(const char *path, char **ret);
/* Is anything mounted at or below path in this mount namespace (/proc/self/mountinfo)? */
bool fs_has_mounts_below(const char *path);

#endif

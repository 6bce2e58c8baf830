/* skiffctl's subcommands: each takes argv from its own name on and returns an exit status. */
#ifndef SKIFF_SKIFFCTL_COMMANDS_H
#define SKIFF_SKIFFCTL_COMMANDS_H

#define SKIFFCTL_DEFAULT_ROOT "/var/lib/skiff/agent"

int skiffctl_image(int argc, char **argv);

#endif

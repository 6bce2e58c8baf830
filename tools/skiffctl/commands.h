/* skiffctl's subcommands: each takes argv from its own name on and returns an exit status. */
#ifndef SKIFF_SKIFFCTL_COMMANDS_H
#define SKIFF_SKIFFCTL_COMMANDS_H

#include "pods/image.h"

#define SKIFFCTL_DEFAULT_ROOT IMAGE_DEFAULT_ROOT

int skiffctl_image(int argc, char **argv);
int skiffctl_cluster(int argc, char **argv);
int skiffctl_token(int argc, char **argv);
int skiffctl_lb(int argc, char **argv);
int skiffctl_store(int argc, char **argv);

#endif

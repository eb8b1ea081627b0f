/* The control commands jaild answers: status, ban, unban, list, ... */
#ifndef JAILD_CTL_CMD_H
#define JAILD_CTL_CMD_H

#include "ctl.h"

/* The table given to ctl_create; handlers take the struct daemon. */
extern const struct ctl_cmd ctl_cmd_table[];

#endif

/* The fleet's configuration: [fleet] in jaild.conf and each jail's fleet key.
 */
#ifndef JAILD_FLEET_CONF_H
#define JAILD_FLEET_CONF_H

#include "conf.h"

struct config;
struct config_store;
struct jail_conf;

enum fleet_mode {
	FLEET_OFF, /* the jail keeps to itself */
	FLEET_SHARE, /* bans made on any node apply here */
	FLEET_COUNT, /* share, and failures on every node count */
};

struct fleet_conf {
	char *url; /* libpq conninfo or URI */
	char *node; /* this server's name */
	int minprefix4; /* shorter fleet prefixes are refused */
	int minprefix6;
	char *file; /* where [fleet] is, for messages */
	int line;
};

/*
 * Read [fleet] from st and check every jail's fleet key in cfg.  Returns
 * NULL when there is no [fleet] section (or on errors, which go to errs).
 */
struct fleet_conf *fleet_conf_load(const struct config_store *st,
    const struct config *cfg, struct conf_errors *errs);
void fleet_conf_free(struct fleet_conf *);

/* The jail's fleet mode (its fleet key; off when unset or invalid). */
enum fleet_mode fleet_conf_mode(const struct jail_conf *jc);
const char *fleet_conf_mode_name(enum fleet_mode);

#endif

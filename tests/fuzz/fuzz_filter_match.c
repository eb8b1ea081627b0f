/* libFuzzer target: filter_match on arbitrary bytes must never crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct filter *fuzz_filter_f[2];

/* Build the filters once: sendmail-idle's regex and a prefregex one. */
static void
fuzz_filter_init(void)
{
	static struct config_regex idle = {
	    (char *)"^\\s*(?:\\S+ )?"
	            "(?:sendmail|sm-(?:mta|acceptingconnections))\\[\\d+\\]: "
	            "\\w{14,20}: (?:[\\w.-]+ )?\\[(?:IPv6:)?<HOST>\\](?: "
	            "\\(may be "
	            "forged\\))? did not issue MAIL/EXPN/VRFY/ETRN during "
	            "connection "
	            "to [\\w.-]+$",
	    (char *)"fuzz", 1};
	static struct config_regex pref = {
	    (char *)"^\\s*\\S+ "
	            "<F-MLFID>\\w+\\[<F-ID>\\d+</F-ID>\\]:</F-MLFID> "
	            "<F-CONTENT>.+</F-CONTENT>$",
	    (char *)"fuzz", 2};
	static struct config_regex fail[] = {
	    {(char *)"^user=<F-USER>.*</F-USER> from <SUBNET>$", (char *)"fuzz",
	        3},
	    {(char *)"^<F-NOFAIL>ok</F-NOFAIL> <ADDR>$", (char *)"fuzz", 4},
	    {(char *)"^saturated$", (char *)"fuzz", 5}};
	static struct config_regex ign = {
	    (char *)"from 10\\.", (char *)"fuzz", 6};
	struct filter_conf fc;

	memset(&fc, 0, sizeof fc);
	fc.name = (char *)"fuzz-idle";
	fc.failregex = &idle;
	fc.nfailregex = 1;
	fuzz_filter_f[0] = filter_create(&fc, NULL);
	fc.name = (char *)"fuzz-pref";
	fc.prefregex = &pref;
	fc.failregex = fail;
	fc.nfailregex = 3;
	fc.ignoreregex = &ign;
	fc.nignoreregex = 1;
	fuzz_filter_f[1] = filter_create(&fc, NULL);
	if (fuzz_filter_f[0] == NULL || fuzz_filter_f[1] == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_result res;
	size_t i;

	if (fuzz_filter_f[0] == NULL)
		fuzz_filter_init();
	for (i = 0; i < 2; i++) {
		if (filter_match(fuzz_filter_f[i], (const char *)data, size,
		        (time_t)1795996800, &res) == FILTER_MATCH &&
		    res.has_addr && res.addr.family != 2 &&
		    res.addr.family != 10)
			abort(); /* an address that is not one */
	}
	return 0;
}

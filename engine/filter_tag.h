/* Tags: fail2ban's <HOST>, <F-ID>... in a regex, written out as PCRE2. */
#ifndef JAILD_FILTER_TAG_H
#define JAILD_FILTER_TAG_H

/*
 * Turn a fail2ban regex into PCRE2 syntax: <HOST>, <ADDR>, <IP4>, <IP6>
 * capture an address in groups ip4/ip6 (never a DNS name), <CIDR> and
 * <SUBNET> a prefix, <SKIPLINES> the lines between, <F-NAME>...</F-NAME>
 * a field in group "name" (lower case, '-' as '_', F-ID as "fid").
 * Returns an allocated pattern, or NULL with *cause (<DNS>: jaild does
 * not resolve names).  fname names the filter in the message.
 */
char *filter_tag_expand(const char *src, const char *fname, char **cause);

#endif

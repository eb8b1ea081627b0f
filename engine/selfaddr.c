/* The host's own interface addresses, never to be banned (ignoreself). */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "selfaddr.h"
#include "xmalloc.h"

struct selfaddr {
	struct addr *v;
	size_t n;
};

/* Turn one sockaddr into a host addr; -1 if not IPv4 or IPv6. */
static int
selfaddr_from_sockaddr(const struct sockaddr *sa, struct addr *out)
{
	const struct sockaddr_in *in4;
	const struct sockaddr_in6 *in6;
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(out, 0, sizeof *out);
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		in4 = (const struct sockaddr_in *)sa;
		out->family = AF_INET;
		out->prefixlen = 32;
		memcpy(out->bytes, &in4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	in6 = (const struct sockaddr_in6 *)sa;
	/* A mapped address is an IPv4 host, as addr.h keys them. */
	if (memcmp(&in6->sin6_addr, mapped, sizeof mapped) == 0) {
		out->family = AF_INET;
		out->prefixlen = 32;
		memcpy(out->bytes, (const uint8_t *)&in6->sin6_addr + 12, 4);
		return 0;
	}
	out->family = AF_INET6;
	out->prefixlen = 128;
	memcpy(out->bytes, &in6->sin6_addr, 16);
	return 0;
}

/* Read every interface address into a fresh array. */
static int
selfaddr_read(struct addr **v, size_t *n, char **cause)
{
	struct ifaddrs *ifa, *p;
	struct addr a;
	size_t i;

	if (getifaddrs(&ifa) == -1) {
		xasprintf(cause, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	*v = NULL;
	*n = 0;
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (selfaddr_from_sockaddr(p->ifa_addr, &a) != 0)
			continue;
		for (i = 0; i < *n && !addr_equal(&(*v)[i], &a); i++)
			;
		if (i < *n)
			continue; /* one address on several interfaces */
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[(*n)++] = a;
	}
	freeifaddrs(ifa);
	return 0;
}

struct selfaddr *
selfaddr_create(char **cause)
{
	struct selfaddr *s = xcalloc(1, sizeof *s);

	if (selfaddr_read(&s->v, &s->n, cause) != 0) {
		selfaddr_free(s);
		return NULL;
	}
	return s;
}

struct selfaddr *
selfaddr_create_from(const struct addr *v, size_t n)
{
	struct selfaddr *s = xcalloc(1, sizeof *s);

	s->v = xcalloc(n + 1, sizeof *s->v);
	if (n > 0)
		memcpy(s->v, v, n * sizeof *v);
	s->n = n;
	return s;
}

void
selfaddr_free(struct selfaddr *s)
{
	if (s == NULL)
		return;
	free(s->v);
	free(s);
}

int
selfaddr_refresh(struct selfaddr *s, char **cause)
{
	struct addr *v;
	size_t n;

	if (selfaddr_read(&v, &n, cause) != 0)
		return -1;
	free(s->v);
	s->v = v;
	s->n = n;
	return 0;
}

size_t
selfaddr_count(const struct selfaddr *s)
{
	return s != NULL ? s->n : 0;
}

const struct addr *
selfaddr_get(const struct selfaddr *s, size_t i)
{
	return s != NULL && i < s->n ? &s->v[i] : NULL;
}

int
selfaddr_covers(const struct selfaddr *s, const struct addr *a)
{
	size_t i;

	for (i = 0; i < selfaddr_count(s); i++) {
		if (addr_contains(a, &s->v[i]))
			return 1;
	}
	return 0;
}

/* proxy/access.c: the request side of an access-log entry. */
#include "access.h"
#include "client.h"
#include "ctx.h"
#include "headers.h"
#include "log.h"

void
access_add(struct access_entry *e, const struct client *cl,
    const struct req_head *h, const char *protocol)
{
	const struct hfield *ref, *ua;

	ref = headers_find(h->fields, h->nfields, "referer");
	ua = headers_find(h->fields, h->nfields, "user-agent");
	e->client = cl->addr;
	e->method = h->method != NULL ? h->method : "-";
	e->methodlen = h->method != NULL ? h->methodlen : 1;
	e->target = h->target != NULL ? h->target : "-";
	e->targetlen = h->target != NULL ? h->targetlen : 1;
	e->protocol = protocol;
	e->host = h->authority;
	e->hostlen = h->authoritylen;
	e->referer = ref != NULL ? ref->value : NULL;
	e->refererlen = ref != NULL ? ref->valuelen : 0;
	e->user_agent = ua != NULL ? ua->value : NULL;
	e->user_agentlen = ua != NULL ? ua->valuelen : 0;
	e->duration_us = ctx_now_us(cl->ctx) - e->start_us;
	e->tls_version = cl->tls_version;
	access_log_add(ctx_access_log(cl->ctx), e);
}

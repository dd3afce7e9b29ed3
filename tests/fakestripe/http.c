/* http.c - the loopback HTTP/1.1 server: connections, request parsing,
 * responses, latency and wire-level faults.
 *
 * One connection answers one request at a time (keep-alive, no pipelining:
 * reading pauses while a response is pending and bytes already received stay
 * buffered).  Requests may arrive in any number of pieces; a request line plus
 * headers over 16 KiB gets 431, a body over 1 MiB 413, and the connection is
 * closed.  Latency is a uv timer per connection, so a slow response never
 * blocks other connections.  Wire faults: "reset" sends the headers and half
 * the body then resets the connection (RST), "truncate" announces the full
 * Content-Length, sends half and closes, "badjson" sends a 200 whose body is
 * cut in the middle of the JSON (with a matching Content-Length).
 */
#include "fake.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER (16 * 1024)
#define MAX_BODY (1024 * 1024)

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct fake *fk;
	struct conn *prev, *next;
	char *buf;
	size_t len, cap;
	int open_handles;
	int busy;
	int closing;
	int keep_alive;
	/* pending response */
	struct response resp;
	char method[16];
	char target[1024];
	uint64_t t0;
	uv_write_t wreq;
	char *out;
	int after_write;   /* 0 keep going, 1 close, 2 reset */
};

static uv_tcp_t listener;
static int listener_open;
static struct conn *conns;

static void conn_close(struct conn *c);
static void try_parse(struct conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void on_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	free(c->buf);
	free(c->out);
	free(c->resp.body);
	free(c);
}

static void conn_unlink(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	conn_unlink(c);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void conn_reset(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	conn_unlink(c);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	if (uv_tcp_close_reset(&c->tcp, on_handle_closed) != 0)
		uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static const char *status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static void on_reset_timer(uv_timer_t *t)
{
	conn_reset(t->data);
}

static void on_write(uv_write_t *w, int status)
{
	struct conn *c = w->data;
	free(c->out);
	c->out = NULL;
	if (c->closing)
		return;
	if (status < 0 || c->after_write == 1) {
		conn_close(c);
		return;
	}
	if (c->after_write == 2) {
		/* let the peer read the partial body, then reset */
		uv_timer_start(&c->timer, on_reset_timer, 20, 0);
		return;
	}
	c->busy = 0;
	if (c->fk->stopping) {
		conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	try_parse(c);
}

/* Send the pending response (after its latency), applying wire faults. */
static void send_response(struct conn *c)
{
	struct response *r = &c->resp;
	size_t body_len = r->body_len;
	size_t send_body = body_len;
	c->after_write = c->keep_alive ? 0 : 1;
	if (r->fault == FK_BADJSON && r->status == 200) {
		body_len = send_body = body_len / 2;
	} else if (r->fault == FK_TRUNCATE) {
		send_body = body_len / 2;
		c->after_write = 1;
	} else if (r->fault == FK_RESET) {
		send_body = body_len / 2;
		c->after_write = 2;
	}
	char head[1024];
	int hn = snprintf(head, sizeof head,
		"HTTP/1.1 %d %s\r\nServer: nginx\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\nConnection: %s\r\nCache-Control: no-cache, no-store\r\n"
		"Stripe-Version: %s\r\n%s\r\n",
		r->status, status_text(r->status), body_len,
		c->after_write == 0 ? "keep-alive" : "close", r->version, r->extra_headers);
	if (hn < 0 || (size_t)hn >= sizeof head)
		hn = (int)sizeof head - 1;
	c->out = malloc((size_t)hn + send_body + 1);
	if (!c->out)
		abort();
	memcpy(c->out, head, (size_t)hn);
	if (send_body)
		memcpy(c->out + hn, r->body, send_body);
	double ms = (double)(uv_hrtime() - c->t0) / 1e6;
	reqlog_record(&c->fk->log, c->method, c->target, r->route, r->status, send_body, ms,
		      r->fault, r->rate_limited);
	free(r->body);
	r->body = NULL;
	uv_buf_t b = uv_buf_init(c->out, (unsigned)((size_t)hn + send_body));
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
		free(c->out);
		c->out = NULL;
		conn_close(c);
	}
}

static void on_latency(uv_timer_t *t)
{
	send_response(t->data);
}

/* Answer a request the server itself rejects (no API involved) and close. */
static void reject(struct conn *c, int status, const char *msg)
{
	memset(&c->resp, 0, sizeof c->resp);
	c->resp.status = status;
	json_t *j = json_pack("{s:{s:s, s:s}}", "error", "message", msg, "type",
			      "invalid_request_error");
	c->resp.body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	c->resp.body_len = c->resp.body ? strlen(c->resp.body) : 0;
	snprintf(c->resp.version, sizeof c->resp.version, "%s", shape_version(SHAPE_2026));
	snprintf(c->resp.route, sizeof c->resp.route, "(rejected)");
	snprintf(c->method, sizeof c->method, "-");
	snprintf(c->target, sizeof c->target, "-");
	c->keep_alive = 0;
	c->busy = 1;
	uv_read_stop((uv_stream_t *)&c->tcp);
	send_response(c);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

/* Copy the target for the log with any occurrence of the key removed. */
static void log_target(struct conn *c, const char *target)
{
	snprintf(c->target, sizeof c->target, "%s", target);
	const char *key = c->fk->cfg.key;
	size_t kl = strlen(key);
	char *p;
	while (kl && (p = strstr(c->target, key)) != NULL) {
		memset(p, '*', kl);
		memcpy(p, "[redacted]", kl < 10 ? kl : 10);
	}
}

/* Find Content-Length in the header block [buf, buf+n) without changing
 * it; -1 when it is malformed or over MAX_BODY. */
static int content_length(const char *buf, size_t n, size_t *out)
{
	static const char name[] = "content-length:";
	*out = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (buf + i)) : n - i;
		if (len > sizeof name - 1 && !strncasecmp(buf + i, name, sizeof name - 1)) {
			unsigned long long v = 0;
			size_t k = i + sizeof name - 1;
			while (k < i + len && (buf[k] == ' ' || buf[k] == '\t'))
				k++;
			if (k >= i + len || buf[k] < '0' || buf[k] > '9')
				return -1;
			while (k < i + len && buf[k] >= '0' && buf[k] <= '9' && v <= MAX_BODY)
				v = v * 10 + (unsigned long long)(buf[k++] - '0');
			while (k < i + len && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r'))
				k++;
			if (k != i + len || v > MAX_BODY)
				return -1;
			*out = (size_t)v;
		}
		i += len + 1;
	}
	return 0;
}

/* Parse one complete request from the buffer if there is one and answer. */
static void try_parse(struct conn *c)
{
	if (c->busy || c->closing)
		return;
	char *end = NULL;
	for (size_t i = 3; i < c->len; i++)
		if (c->buf[i] == '\n' && c->buf[i - 1] == '\r' && c->buf[i - 2] == '\n' &&
		    c->buf[i - 3] == '\r') {
			end = c->buf + i + 1;
			break;
		}
	if (!end) {
		if (c->len > MAX_HEADER)
			reject(c, 431, "Request headers too large.");
		return;
	}
	size_t head_len = (size_t)(end - c->buf);
	if (head_len > MAX_HEADER) {
		reject(c, 431, "Request headers too large.");
		return;
	}
	size_t clen = 0;
	if (content_length(c->buf, head_len, &clen) < 0) {
		reject(c, 413, "Request body too large.");
		return;
	}
	if (c->len < head_len + clen)
		return; /* wait for the rest of the body */
	end[-2] = 0;
	struct request req;
	memset(&req, 0, sizeof req);
	char *line = c->buf, *save = NULL;
	char *reqline = strtok_r(line, "\r\n", &save);
	char *sp1 = reqline ? strchr(reqline, ' ') : NULL;
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		reject(c, 400, "Malformed request line.");
		return;
	}
	*sp1 = 0;
	*sp2 = 0;
	req.method = reqline;
	req.target = sp1 + 1;
	int http10 = !strcmp(sp2 + 1, "HTTP/1.0");
	c->keep_alive = !http10;
	int chunked = 0;
	for (char *h; (h = strtok_r(NULL, "\r\n", &save));) {
		char *colon = strchr(h, ':');
		if (!colon) {
			reject(c, 400, "Malformed header line.");
			return;
		}
		*colon = 0;
		char *v = trim(colon + 1);
		if (!strcasecmp(h, "authorization")) {
			req.auth = v;
		} else if (!strcasecmp(h, "stripe-version")) {
			req.version = v;
		} else if (!strcasecmp(h, "connection")) {
			if (!strcasecmp(v, "close"))
				c->keep_alive = 0;
			else if (!strcasecmp(v, "keep-alive"))
				c->keep_alive = 1;
		} else if (!strcasecmp(h, "transfer-encoding")) {
			chunked = 1;
		}
	}
	if (chunked) {
		reject(c, 400, "Chunked request bodies are not supported.");
		return;
	}
	req.body = c->buf + head_len;
	req.body_len = clen;
	c->t0 = uv_hrtime();
	snprintf(c->method, sizeof c->method, "%s", req.method);
	log_target(c, req.target);
	c->busy = 1;
	uv_read_stop((uv_stream_t *)&c->tcp);
	api_handle(c->fk, &req, &c->resp);
	/* drop the request from the buffer, keep what followed */
	size_t used = head_len + clen;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	unsigned ms = c->resp.control ? 0 : faults_latency(&c->fk->faults);
	if (ms)
		uv_timer_start(&c->timer, on_latency, ms, 0);
	else
		send_response(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = h->data;
	(void)suggested;
	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		if (cap > MAX_HEADER + MAX_BODY + 8192)
			cap = MAX_HEADER + MAX_BODY + 8192;
		if (cap > c->cap) {
			char *nb = realloc(c->buf, cap);
			if (!nb)
				abort();
			c->buf = nb;
			c->cap = cap;
		}
	}
	*b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = s->data;
	(void)b;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	try_parse(c);
	if (!c->busy && !c->closing && c->len == c->cap && c->cap >= MAX_HEADER + MAX_BODY + 8192)
		reject(c, 413, "Request too large.");
}

static void on_connection(uv_stream_t *server, int status)
{
	struct fake *fk = server->data;
	if (status < 0 || fk->stopping)
		return;
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->fk = fk;
	uv_tcp_init(fk->loop, &c->tcp);
	uv_timer_init(fk->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int http_start(struct fake *fk, int port)
{
	struct sockaddr_in addr;
	uv_ip4_addr("127.0.0.1", port, &addr);
	uv_tcp_init(fk->loop, &listener);
	listener_open = 1;
	listener.data = fk;
	int rc = uv_tcp_bind(&listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&listener, 1024, on_connection);
	if (rc != 0) {
		fprintf(stderr, "fakestripe: cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(rc));
		return -1;
	}
	struct sockaddr_storage ss;
	int len = sizeof ss;
	uv_tcp_getsockname(&listener, (struct sockaddr *)&ss, &len);
	printf("listening on 127.0.0.1:%d\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	return 0;
}

void http_stop(struct fake *fk)
{
	fk->stopping = 1;
	if (listener_open) {
		listener_open = 0;
		uv_close((uv_handle_t *)&listener, NULL);
	}
	while (conns)
		conn_close(conns);
}

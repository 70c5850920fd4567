/*
 * TLS for the listener: the server context built from [server] tls_cert
 * and tls_key with OpenSSL. Built with the rest of a running configuration
 * (pacerd_rules_new), so pacerd -t, the start and every reload check the
 * files, and a reload brings new certificates to new connections. The
 * encrypted I/O itself is http.c's (SSL_read/SSL_write on its sockets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pacerd.h"

/*
 * TLS 1.2 ciphers: forward secrecy and AEAD only (Mozilla's "intermediate"
 * list); TLS 1.3 keeps OpenSSL's own suites, which are all of that kind.
 */
#define TLS_CIPHERS_12	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* A key file with a passphrase is refused, never prompted for on a tty. */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return 0;
}

/*
 * Set *cause (caller frees) to "file:line: key: what" followed by
 * OpenSSL's last reason, and clear OpenSSL's error queue.
 */
static void
tls_error(const struct conf *c, const char *key, const char *what,
    char **cause)
{
	char		 msg[1024], reason[256] = "";
	unsigned long	 e = ERR_peek_last_error();

	if (e != 0)
		snprintf(reason, sizeof reason, " (%s)", ERR_reason_error_string(e) ?
		    ERR_reason_error_string(e) : "unknown OpenSSL error");
	snprintf(msg, sizeof msg, "%s:%d: %s: %s%s", c->path,
	    conf_key_line(c, "server", key), key, what, reason);
	ERR_clear_error();
	*cause = strdup(msg);
}

int
tls_ctx_new(const struct conf *c, SSL_CTX **out, char **cause)
{
	SSL_CTX		*ctx = NULL;
	X509		*cert;
	char		 what[768];
	unsigned long	 e;

	*out = NULL;
	if (c->server.tls_cert == NULL)
		return 0;
	/* Unreadable files are named with the line that points at them. */
	if (conf_check_file(c, "server", "tls_cert", cause) != 0 ||
	    conf_check_file(c, "server", "tls_key", cause) != 0)
		return -1;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_error(c, "tls_cert", "cannot make a TLS context", cause);
		return -1;
	}
	/*
	 * No renegotiation (a client could make us redo handshakes at will),
	 * no compression (CRIME); a peer's close without close_notify is an
	 * ordinary EOF: HTTP frames its own messages.
	 */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* http.c writes from its connection's buffer, which may move. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
		tls_error(c, "tls_cert", "cannot set the TLS 1.2 ciphers", cause);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->server.tls_cert) != 1) {
		snprintf(what, sizeof what, "%s is not a PEM certificate (chain)",
		    c->server.tls_cert);
		tls_error(c, "tls_cert", what, cause);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->server.tls_key,
	    SSL_FILETYPE_PEM) != 1) {
		e = ERR_peek_last_error();
		if (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			snprintf(what, sizeof what, "%s does not match the "
			    "certificate in %s", c->server.tls_key,
			    c->server.tls_cert);
		else
			snprintf(what, sizeof what, "%s is not an unencrypted PEM "
			    "private key", c->server.tls_key);
		tls_error(c, "tls_key", what, cause);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof what, "%s does not match the certificate in "
		    "%s", c->server.tls_key, c->server.tls_cert);
		tls_error(c, "tls_key", what, cause);
		goto fail;
	}
	/* An expired certificate still loads: clients will say why they fail. */
	if ((cert = SSL_CTX_get0_certificate(ctx)) != NULL &&
	    X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
		log_warn("the TLS certificate has expired", "file=%s",
		    c->server.tls_cert);
	*out = ctx;
	return 0;

fail:
	SSL_CTX_free(ctx);
	return -1;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

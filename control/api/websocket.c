/* RFC 6455 handshake key and frame codec (see websocket.h). SHA-1 and base64 are GnuTLS's. */
#include "api/websocket.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include <skiff/cleanup.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int ws_accept_key(const char *client_key, char ret[29])
{
	unsigned char digest[20];
	gnutls_datum_t in = { digest, sizeof(digest) }, out = { NULL, 0 };
	_cleanup_free_ char *cat = NULL;
	size_t klen = client_key ? strlen(client_key) : 0;

	if (klen == 0 || klen > 256)
		return -EINVAL;
	cat = malloc(klen + sizeof(WS_GUID));
	if (!cat)
		return -ENOMEM;
	memcpy(cat, client_key, klen);
	memcpy(cat + klen, WS_GUID, sizeof(WS_GUID));
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, cat, klen + sizeof(WS_GUID) - 1, digest) < 0)
		return -EIO;
	if (gnutls_base64_encode2(&in, &out) < 0)
		return -EIO;
	if (out.size != 28) {
		gnutls_free(out.data);
		return -EIO;
	}
	memcpy(ret, out.data, 28);
	ret[28] = '\0';
	gnutls_free(out.data);
	return 0;
}

size_t ws_frame_header(uint8_t buf[WS_MAX_HEADER], enum ws_opcode op, size_t len, const uint8_t mask[4])
{
	uint8_t mbit = mask ? 0x80 : 0;
	size_t n;

	buf[0] = 0x80 | (uint8_t)op;
	if (len < 126) {
		buf[1] = mbit | (uint8_t)len;
		n = 2;
	} else if (len <= 0xffff) {
		buf[1] = mbit | 126;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		n = 4;
	} else {
		buf[1] = mbit | 127;
		for (int i = 0; i < 8; i++)
			buf[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		n = 10;
	}
	if (mask) {
		memcpy(buf + n, mask, 4);
		n += 4;
	}
	return n;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t off)
{
	for (size_t i = 0; i < len; i++)
		data[i] ^= mask[(off + i) & 3];
}

long ws_frame_parse(uint8_t *buf, size_t len, size_t max_payload, bool require_mask, struct ws_frame *ret)
{
	size_t hlen = 2;
	uint64_t plen;
	bool masked;
	uint8_t op;

	if (len < 2)
		return 0;
	op = buf[0] & 0x0f;
	masked = buf[1] & 0x80;
	plen = buf[1] & 0x7f;
	if (buf[0] & 0x70)
		return -EPROTO; /* no extension was negotiated */
	if (require_mask && !masked)
		return -EPROTO;
	if ((op & 0x8) && (!(buf[0] & 0x80) || plen > 125))
		return -EPROTO;
	if (op != WS_OP_CONTINUATION && op != WS_OP_TEXT && op != WS_OP_BINARY && op != WS_OP_CLOSE &&
	    op != WS_OP_PING && op != WS_OP_PONG)
		return -EPROTO;
	if (plen == 126) {
		if (len < 4)
			return 0;
		plen = (uint64_t)buf[2] << 8 | buf[3];
		hlen = 4;
	} else if (plen == 127) {
		if (len < 10)
			return 0;
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | buf[2 + i];
		hlen = 10;
	}
	if (plen > max_payload)
		return -EMSGSIZE;
	if (masked)
		hlen += 4;
	if (len < hlen || len - hlen < plen)
		return 0;
	if (masked)
		ws_mask(buf + hlen, (size_t)plen, buf + hlen - 4, 0);
	*ret = (struct ws_frame){ .fin = buf[0] & 0x80, .op = op, .payload = buf + hlen, .len = (size_t)plen };
	return (long)(hlen + plen);
}

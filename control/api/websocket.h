/* RFC 6455 WebSocket pieces for the upgraded connections of pods/exec: the handshake's accept
 * key and the frame codec (server side: frames sent unmasked, frames read must be masked). */
#ifndef SKIFF_API_WEBSOCKET_H
#define SKIFF_API_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* The longest header ws_frame_header writes. */
#define WS_MAX_HEADER 14

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455's GUID)), 28
 * characters and a NUL. -EINVAL for an empty key, -EIO when GnuTLS fails. */
int ws_accept_key(const char *client_key, char ret[29]);

/* The header of one final frame with opcode and a payload of len bytes, masked with mask when
 * mask is not NULL (clients mask; the caller then masks the payload with ws_mask). Returns its
 * length. */
size_t ws_frame_header(uint8_t buf[WS_MAX_HEADER], enum ws_opcode op, size_t len, const uint8_t mask[4]);
/* XORs data with the 4-byte mask, starting at offset off of the payload. */
void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t off);

struct ws_frame {
	bool fin;
	enum ws_opcode op;
	uint8_t *payload; /* points into the parsed buffer, unmasked in place */
	size_t len;
};

/* Parses one frame at the start of buf (len bytes; the payload is unmasked in place). Returns
 * the bytes it takes, 0 when buf holds only part of it, -EMSGSIZE when its payload exceeds
 * max_payload, -EPROTO when it is malformed (reserved bits, a fragmented or oversized control
 * frame) or unmasked while require_mask. */
long ws_frame_parse(uint8_t *buf, size_t len, size_t max_payload, bool require_mask, struct ws_frame *ret);

#endif

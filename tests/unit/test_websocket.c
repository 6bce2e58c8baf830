/* The WebSocket codec: RFC 6455's handshake example and its framing examples (section 5.7),
 * lengths at the 7/16/64-bit boundaries, masking, partial input and protocol errors. */
#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "api/websocket.h"

Test(websocket, accept_key_rfc_example)
{
	char key[29];

	/* RFC 6455 section 1.3. */
	cr_assert_eq(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", key), 0);
	cr_expect_str_eq(key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	cr_expect_eq(ws_accept_key("", key), -EINVAL);
	cr_expect_eq(ws_accept_key(NULL, key), -EINVAL);
}

Test(websocket, unmasked_hello_rfc_example)
{
	uint8_t hdr[WS_MAX_HEADER], frame[16] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
	struct ws_frame f;

	cr_assert_eq(ws_frame_header(hdr, WS_OP_TEXT, 5, NULL), 2);
	cr_expect_eq(memcmp(hdr, frame, 2), 0);
	cr_assert_eq(ws_frame_parse(frame, 7, 1024, false, &f), 7);
	cr_expect(f.fin);
	cr_expect_eq(f.op, WS_OP_TEXT);
	cr_expect_eq(f.len, 5);
	cr_expect_eq(memcmp(f.payload, "Hello", 5), 0);
	/* A server must refuse unmasked client frames. */
	cr_expect_eq(ws_frame_parse(frame, 7, 1024, true, &f), -EPROTO);
}

Test(websocket, masked_hello_rfc_example)
{
	uint8_t frame[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	uint8_t hdr[WS_MAX_HEADER], payload[5] = { 'H', 'e', 'l', 'l', 'o' };
	const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	struct ws_frame f;

	cr_assert_eq(ws_frame_header(hdr, WS_OP_TEXT, 5, mask), 6);
	cr_expect_eq(memcmp(hdr, frame, 6), 0);
	ws_mask(payload, 5, mask, 0);
	cr_expect_eq(memcmp(payload, frame + 6, 5), 0);
	/* Every prefix is incomplete, never an error. */
	for (size_t n = 0; n < sizeof(frame); n++)
		cr_expect_eq(ws_frame_parse(frame, n, 1024, true, &f), 0, "prefix %zu", n);
	cr_assert_eq(ws_frame_parse(frame, sizeof(frame), 1024, true, &f), (long)sizeof(frame));
	cr_expect_eq(memcmp(f.payload, "Hello", 5), 0);
}

Test(websocket, length_encodings)
{
	static uint8_t buf[70000 + WS_MAX_HEADER];
	const size_t lens[] = { 0, 125, 126, 65535, 65536, 70000 };
	const size_t hlens[] = { 2, 2, 4, 4, 10, 10 };
	struct ws_frame f;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t h = ws_frame_header(buf, WS_OP_BINARY, lens[i], NULL);

		cr_expect_eq(h, hlens[i], "len %zu", lens[i]);
		memset(buf + h, 'x', lens[i]);
		cr_expect_eq(ws_frame_parse(buf, h + lens[i], 1 << 20, false, &f), (long)(h + lens[i]));
		cr_expect_eq(f.len, lens[i]);
		cr_expect_eq(f.op, WS_OP_BINARY);
		cr_expect_eq(ws_frame_parse(buf, h + lens[i] - (lens[i] ? 1 : 0), 1 << 20, false, &f),
			     lens[i] ? 0 : (long)h);
	}
	/* 256 bytes in a 16-bit length: 0x7e 0x01 0x00 (RFC 6455 section 5.7). */
	cr_assert_eq(ws_frame_header(buf, WS_OP_BINARY, 256, NULL), 4);
	cr_expect_eq(buf[0], 0x82);
	cr_expect_eq(buf[1], 0x7e);
	cr_expect_eq(buf[2], 0x01);
	cr_expect_eq(buf[3], 0x00);
	cr_expect_eq(ws_frame_parse(buf, 4 + 256, 255, false, &f), -EMSGSIZE);
}

Test(websocket, protocol_errors)
{
	uint8_t rsv[] = { 0xc1, 0x00 };
	uint8_t frag_ping[] = { 0x09, 0x00 };
	uint8_t big_close[] = { 0x88, 126, 0x00, 0x80 };
	uint8_t bad_op[] = { 0x83, 0x00 };
	uint8_t ping[] = { 0x89, 0x02, 'h', 'i' };
	struct ws_frame f;

	cr_expect_eq(ws_frame_parse(rsv, sizeof(rsv), 1024, false, &f), -EPROTO);
	cr_expect_eq(ws_frame_parse(frag_ping, sizeof(frag_ping), 1024, false, &f), -EPROTO);
	cr_expect_eq(ws_frame_parse(big_close, sizeof(big_close), 1024, false, &f), -EPROTO);
	cr_expect_eq(ws_frame_parse(bad_op, sizeof(bad_op), 1024, false, &f), -EPROTO);
	cr_assert_eq(ws_frame_parse(ping, sizeof(ping), 1024, false, &f), 4);
	cr_expect_eq(f.op, WS_OP_PING);
	cr_expect_eq(f.len, 2);
}

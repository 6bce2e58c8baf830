/* What the API server and an agent's HTTPS endpoint agree on (kubectl logs and exec go through
 * it): the paths, the client certificate the agent accepts, and the framing of exec answers.
 *
 * GET  /containerLogs/NS/POD/CONTAINER?uid=&follow=&previous=&tailLines=&sinceSeconds=&timestamps=
 *      the log as kubectl shows it (text/plain, streamed while following); errors are Status JSON.
 * POST /exec/NS/POD/CONTAINER?uid=&command=ARG&command=ARG...  (body: the command's stdin)
 *      200 and a stream of frames: one
 * byte channel (1 stdout, 2 stderr, 3 status: a JSON Status, always the last frame), a 4-byte
 * big-endian payload length, then the payload. The channels are the WebSocket ones kubectl
 * speaks (k8s.io remotecommand), so the API server forwards payloads unchanged. */
#ifndef SKIFF_AGENT_PROTO_H
#define SKIFF_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum exec_channel {
	EXEC_CH_STDIN = 0,
	EXEC_CH_STDOUT = 1,
	EXEC_CH_STDERR = 2,
	EXEC_CH_STATUS = 3,
	EXEC_CH_RESIZE = 4,
	EXEC_CH_CLOSE = 255, /* v5.channel.k8s.io: the client closes a channel (its stdin) */
};

/* The common name of the API server's client certificate (signed by the cluster CA): the
 * only client an agent serves. Kubernetes' own name for that identity. */
#define AGENT_PROTO_CLIENT_CN "kube-apiserver-kubelet-client"

#define EXEC_FRAME_HEADER 5
/* The largest payload a frame carries. */
#define EXEC_FRAME_MAX (64 * 1024)

static inline void exec_frame_header(uint8_t h[EXEC_FRAME_HEADER], enum exec_channel ch, uint32_t len)
{
	h[0] = (uint8_t)ch;
	h[1] = (uint8_t)(len >> 24);
	h[2] = (uint8_t)(len >> 16);
	h[3] = (uint8_t)(len >> 8);
	h[4] = (uint8_t)len;
}

static inline uint32_t exec_frame_len(const uint8_t h[EXEC_FRAME_HEADER])
{
	return (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
}

#endif

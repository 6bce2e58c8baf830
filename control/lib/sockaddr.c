/* sockaddr_from_ip (see include/skiff/sockaddr.h). */
#include <skiff/sockaddr.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

int sockaddr_from_ip(const char *host, unsigned port, struct sockaddr_storage *ret, socklen_t *ret_len,
		     bool *ret_v6)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret;
	bool v6;

	memset(ret, 0, sizeof(*ret));
	if (!host)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		v6 = false;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		v6 = true;
	} else {
		return -EINVAL;
	}
	if (ret_len)
		*ret_len = v6 ? sizeof(*in6) : sizeof(*in4);
	if (ret_v6)
		*ret_v6 = v6;
	return 0;
}

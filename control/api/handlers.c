/* Request dispatch and the fixed documents: version, discovery, OpenAPI, health. */
#include "api/handlers.h"

#include <errno.h>

#include <skiff/json.h>

#include "api/discovery.h"
#include "api/encode.h"

void handlers_status(struct api_response *resp, const struct api_status *st)
{
	resp->code = st->code ? st->code : 500;
	resp->json = api_status_to_json(st);
	resp->content_type = "application/json";
}

static void send_doc(struct api_response *resp, json_object *doc, const char *content_type)
{
	struct api_status st = { 0 };

	if (!doc) {
		api_status_internal(&st, -ENOMEM, "building document");
		handlers_status(resp, &st);
		api_status_clear(&st);
		return;
	}
	resp->code = 200;
	resp->json = doc;
	resp->content_type = content_type;
}

static void documents(const struct api_request *req, struct api_response *resp)
{
	bool aggregated = encode_wants_aggregated(req->accept);

	switch (req->rt->kind) {
	case ROUTE_VERSION:
		send_doc(resp, discovery_version(), "application/json");
		return;
	case ROUTE_API:
		if (aggregated)
			send_doc(resp, discovery_api_aggregated(), DISCOVERY_AGGREGATED_MEDIA_TYPE);
		else
			send_doc(resp, discovery_api_versions(), "application/json");
		return;
	case ROUTE_APIS:
		if (aggregated)
			send_doc(resp, discovery_apis_aggregated(), DISCOVERY_AGGREGATED_MEDIA_TYPE);
		else
			send_doc(resp, discovery_apis(), "application/json");
		return;
	case ROUTE_API_V1:
		send_doc(resp, discovery_api_v1(), "application/json");
		return;
	case ROUTE_OPENAPI_V3:
		send_doc(resp, openapi_v3_root(), "application/json");
		return;
	case ROUTE_OPENAPI_V3_API_V1:
		send_doc(resp, openapi_v3_api_v1(), "application/json");
		return;
	case ROUTE_APIS_GROUP:
		send_doc(resp, discovery_group(req->rt->group), "application/json");
		return;
	case ROUTE_APIS_GROUP_VERSION:
		send_doc(resp, discovery_group_version(req->rt->group), "application/json");
		return;
	case ROUTE_OPENAPI_V3_GROUP_VERSION:
		send_doc(resp, openapi_v3_group_version(req->rt->group), "application/json");
		return;
	default:
		return;
	}
}

void handlers_dispatch(const struct api_request *req, struct api_response *resp)
{
	switch (req->rt->kind) {
	case ROUTE_HEALTHZ:
		resp->code = 200;
		resp->text = "ok";
		resp->content_type = "text/plain; charset=utf-8";
		return;
	case ROUTE_READYZ:
		resp->code = req->ready ? 200 : 500;
		resp->text = req->ready ? "ok" : "[-]registry failed: not ready\nreadyz check failed";
		resp->content_type = "text/plain; charset=utf-8";
		return;
	case ROUTE_RESOURCE:
		handlers_resources(req, resp);
		return;
	default:
		documents(req, resp);
		return;
	}
}

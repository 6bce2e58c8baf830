# Label selectors (every operator) and field selectors, sent verbatim by kubectl.
# shellcheck shell=bash

SCENARIOS+=(label_selectors field_selectors)

scenario_label_selectors() {
	check_ok "selectors: create pods" k apply -f "$(fixture selectors.yaml)" || return
	check_eq "-l env=prod" "pod/sel-a" "$(names pods -l 'selgroup=1,env=prod')"
	check_eq "-l env==prod" "pod/sel-a" "$(names pods -l 'selgroup=1,env==prod')"
	check_eq "-l env!=prod" "pod/sel-b pod/sel-c" "$(names pods -l 'selgroup=1,env!=prod')"
	check_eq "-l env in (dev,qa)" "pod/sel-b pod/sel-c" "$(names pods -l 'selgroup=1,env in (dev,qa)')"
	check_eq "-l env notin (dev,qa)" "pod/sel-a" "$(names pods -l 'selgroup=1,env notin (dev,qa)')"
	check_eq "-l tier (exists)" "pod/sel-a pod/sel-b" "$(names pods -l 'selgroup=1,tier')"
	check_eq "-l !tier (does not exist)" "pod/sel-c" "$(names pods -l 'selgroup=1,!tier')"
	check_eq "-l matching nothing" "" "$(k get pods -l 'selgroup=1,env=none' -o name 2>/dev/null)"
}

scenario_field_selectors() {
	check_eq "--field-selector metadata.name" "pod/sel-b" "$(names pods --field-selector metadata.name=sel-b)"
	check_eq "--field-selector status.phase=Pending" "pod/sel-a pod/sel-b pod/sel-c" \
		"$(names pods -l selgroup=1 --field-selector status.phase=Pending)"
	check_eq "--field-selector status.phase!=Pending" "" \
		"$(k get pods -l selgroup=1 --field-selector status.phase!=Pending -o name 2>/dev/null)"
	check_eq "--field-selector name + label" "pod/sel-a" \
		"$(names pods -l env=prod --field-selector metadata.name=sel-a)"
	k delete -f "$(fixture selectors.yaml)" >/dev/null 2>&1
}

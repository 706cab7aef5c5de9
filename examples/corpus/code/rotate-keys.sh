#!/bin/sh
# rotate-keys.sh SERVICE - the scheduled service key rotation, step by step.
set -eu

service=${1:?usage: rotate-keys.sh SERVICE}

create_key() {
	larkctl keys create --service "$service"
}

wait_for_deploy() {
	larkctl deploy wait --service "$service" --timeout 30m
}

promote_key() {
	larkctl keys promote --service "$service"
}

create_key
larkctl deploy start --service "$service" --reason "key rotation"
wait_for_deploy
promote_key
echo "rotated: revoke the previous key after 24 hours"

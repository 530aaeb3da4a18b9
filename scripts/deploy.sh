#!/usr/bin/env bash
# `make deploy`: Reelscope on Cloud Run behind Identity-Aware Proxy, in one command.
#
# Builds the Dockerfile with Cloud Build (`gcloud beta run deploy --source .`: the --iap flag is
# in gcloud's beta track only) and sets up what the service needs: its own service account with
# only its roles, the media bucket with CORS for direct uploads, a Cloud SQL (PostgreSQL)
# instance whose URL is a Secret Manager secret, IAP in front, and who may pass it.
# Every step is idempotent: a second run updates the service and leaves the rest as it is.
# README.md, "Deploy to Cloud Run", says what it costs and how to undo it.
#
# Settings (environment variables; `make deploy NAME=value` works too):
#   GOOGLE_CLOUD_PROJECT  the project (required)
#   REGION                Cloud Run region (us-central1); the bucket and Cloud SQL go there too
#   SERVICE               Cloud Run service name (reelscope)
#   SERVICE_ACCOUNT       the service's account name (SERVICE-run)
#   REELSCOPE_BUCKET      media bucket (PROJECT-reelscope), created if missing
#   SQL_INSTANCE          Cloud SQL instance (SERVICE), created if missing; "none": no database
#   DATABASE_SECRET       secret holding REELSCOPE_DATABASE_URL (SERVICE-database-url)
#   IAP_MEMBERS           who may open it, comma-separated (user:YOU from gcloud's account)
#   CORS_ORIGINS          more browser origins for direct uploads (a custom domain), comma-separated
#   CPU, MEMORY           per instance (2, 4Gi); the files an instance writes count as memory
#   MAX_INSTANCES         (4; 1 with SQL_INSTANCE=none) the most instances Cloud Run may start:
#                         records in Cloud SQL and files in the bucket make them one studio
#   DRY_RUN=1             print every command instead of running it
set -euo pipefail
cd "$(dirname "$0")/.." # the repository: what --source=. uploads

DRY_RUN="${DRY_RUN:-0}"
PROJECT="${GOOGLE_CLOUD_PROJECT:-}"
if [[ -z "$PROJECT" ]]; then
  cat >&2 <<'EOF'
make deploy: GOOGLE_CLOUD_PROJECT is not set. Say which project to deploy to:
    export GOOGLE_CLOUD_PROJECT=your-project-id     # or: make deploy GOOGLE_CLOUD_PROJECT=...
(`gcloud config get-value project` prints the project gcloud uses by default.)
EOF
  exit 2
fi
REGION="${REGION:-us-central1}"
SERVICE="${SERVICE:-reelscope}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-${SERVICE}-run}"
SA_EMAIL="${SERVICE_ACCOUNT}@${PROJECT}.iam.gserviceaccount.com"
BUCKET="${REELSCOPE_BUCKET:-${PROJECT}-reelscope}"
BUCKET="${BUCKET#gs://}"
BUCKET="${BUCKET%/}"
SQL_INSTANCE="${SQL_INSTANCE:-${SERVICE}}"
DATABASE_SECRET="${DATABASE_SECRET:-${SERVICE}-database-url}"
DATABASE_NAME="reelscope"
DATABASE_USER="reelscope"
CPU="${CPU:-2}"
MEMORY="${MEMORY:-4Gi}"
# Without Cloud SQL each instance would keep its own SQLite records: one instance, then.
if [[ "$SQL_INSTANCE" == "none" ]]; then
  MAX_INSTANCES="${MAX_INSTANCES:-1}"
else
  MAX_INSTANCES="${MAX_INSTANCES:-4}"
fi
# Cloud Run's longest request timeout: a Streamlit session is one websocket, which Cloud Run
# closes at the timeout; the browser then reconnects to the same session.
TIMEOUT_S=3600

exec 3>&1 # the commands are shown on the script's stdout, also from inside $(...)

dry() { [[ "$DRY_RUN" == "1" ]]; }

# A command as a person would type it again (single quotes where the shell needs them);
# passwords masked.
shown() {
  local word out=() quote="'"
  for word in "$@"; do
    if [[ "$word" == --password=* ]]; then word="--password=********"; fi
    if [[ ! "$word" =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
      word="${quote}${word//${quote}/${quote}\\${quote}${quote}}${quote}"
    fi
    out+=("$word")
  done
  printf '+ %s\n' "${out[*]}" >&3
}

# Every gcloud call goes through one of these three: each is shown; under DRY_RUN none runs.
run() {
  shown "$@"
  dry || "$@"
}

# Whether a describe command succeeds. Under DRY_RUN it is shown and taken as "missing", so
# that the commands that would create the thing are shown too.
exists() {
  shown "$@"
  if dry; then return 1; fi
  "$@" >/dev/null 2>&1
}

# A value gcloud prints (a project number, a URL); under DRY_RUN, the placeholder given first.
value() {
  local placeholder="$1"
  shift
  shown "$@"
  if dry; then
    printf '%s\n' "$placeholder"
  else
    "$@"
  fi
}

# A command fed a secret on stdin, so that it is in no command line and no log.
run_with_stdin() {
  local data="$1"
  shift
  shown "$@"
  printf '    (the secret value is passed on stdin)\n' >&3
  dry || printf '%s' "$data" | "$@"
}

step() { printf '\n== %s\n' "$*" >&3; }

P=(--project="$PROJECT")
if dry; then
  printf 'DRY_RUN=1: the commands, not run. Each describe is shown as if what it looks for were\n' >&3
  printf 'missing, so that the commands creating it are shown too.\n' >&3
fi

step "APIs"
run gcloud services enable run.googleapis.com cloudbuild.googleapis.com \
  artifactregistry.googleapis.com iap.googleapis.com aiplatform.googleapis.com \
  sqladmin.googleapis.com secretmanager.googleapis.com storage.googleapis.com \
  cloudresourcemanager.googleapis.com "${P[@]}"
PROJECT_NUMBER="$(value PROJECT_NUMBER gcloud projects describe "$PROJECT" --format='value(projectNumber)')"
if [[ -z "$PROJECT_NUMBER" ]]; then
  echo "make deploy: gcloud gave no project number for ${PROJECT}." >&2
  exit 1
fi
AUDIENCE="/projects/${PROJECT_NUMBER}/locations/${REGION}/services/${SERVICE}"

step "Service account ${SA_EMAIL}: Vertex AI, its bucket, Cloud SQL, its secret; nothing else"
if ! exists gcloud iam service-accounts describe "$SA_EMAIL" "${P[@]}"; then
  run gcloud iam service-accounts create "$SERVICE_ACCOUNT" \
    --display-name="Reelscope on Cloud Run (${SERVICE})" "${P[@]}"
fi
PROJECT_ROLES=(roles/aiplatform.user)
if [[ "$SQL_INSTANCE" != "none" ]]; then PROJECT_ROLES+=(roles/cloudsql.client); fi
for role in "${PROJECT_ROLES[@]}"; do
  run gcloud projects add-iam-policy-binding "$PROJECT" \
    --member="serviceAccount:${SA_EMAIL}" --role="$role" --condition=None --quiet
done

step "Bucket gs://${BUCKET}"
if ! exists gcloud storage buckets describe "gs://${BUCKET}" "${P[@]}"; then
  run gcloud storage buckets create "gs://${BUCKET}" --location="$REGION" \
    --uniform-bucket-level-access "${P[@]}"
fi
# Object User: read, write and delete objects (resumable uploads too), not the bucket's policy.
run gcloud storage buckets add-iam-policy-binding "gs://${BUCKET}" \
  --member="serviceAccount:${SA_EMAIL}" --role=roles/storage.objectUser "${P[@]}"

DEPLOY_SQL=()
ENV_VARS="GOOGLE_CLOUD_PROJECT=${PROJECT},REELSCOPE_BUCKET=${BUCKET}"
ENV_VARS+=",REELSCOPE_AUTH=iap,REELSCOPE_IAP_AUDIENCE=${AUDIENCE}"
if [[ "$SQL_INSTANCE" != "none" ]]; then
  step "Cloud SQL ${SQL_INSTANCE} (PostgreSQL), its database, and its URL as a secret"
  CONNECTION="${PROJECT}:${REGION}:${SQL_INSTANCE}"
  if ! exists gcloud sql instances describe "$SQL_INSTANCE" "${P[@]}"; then
    # The smallest shared-core machine, which only the Enterprise edition offers.
    run gcloud sql instances create "$SQL_INSTANCE" --database-version=POSTGRES_15 \
      --edition=enterprise --tier=db-f1-micro --region="$REGION" "${P[@]}"
  fi
  if ! exists gcloud sql databases describe "$DATABASE_NAME" --instance="$SQL_INSTANCE" "${P[@]}"; then
    run gcloud sql databases create "$DATABASE_NAME" --instance="$SQL_INSTANCE" "${P[@]}"
  fi
  if ! exists gcloud secrets describe "$DATABASE_SECRET" "${P[@]}"; then
    # A new password, only ever in the secret: hex, so that it needs no quoting in a URL.
    if dry; then
      password="GENERATED"
    else
      password="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
    fi
    if exists gcloud sql users describe "$DATABASE_USER" --instance="$SQL_INSTANCE" "${P[@]}"; then
      run gcloud sql users set-password "$DATABASE_USER" --instance="$SQL_INSTANCE" \
        --password="$password" "${P[@]}"
    else
      run gcloud sql users create "$DATABASE_USER" --instance="$SQL_INSTANCE" \
        --password="$password" "${P[@]}"
    fi
    # Cloud Run mounts the instance's socket at /cloudsql/CONNECTION (--add-cloudsql-instances).
    database_url="postgresql+psycopg://${DATABASE_USER}:${password}@/${DATABASE_NAME}?host=/cloudsql/${CONNECTION}"
    run_with_stdin "$database_url" gcloud secrets create "$DATABASE_SECRET" \
      --data-file=- --replication-policy=automatic "${P[@]}"
  fi
  run gcloud secrets add-iam-policy-binding "$DATABASE_SECRET" \
    --member="serviceAccount:${SA_EMAIL}" --role=roles/secretmanager.secretAccessor "${P[@]}"
  DEPLOY_SQL=(--add-cloudsql-instances="$CONNECTION"
    --set-secrets="REELSCOPE_DATABASE_URL=${DATABASE_SECRET}:latest")
fi

step "IAP's service agent (it calls the service on the users' behalf)"
run gcloud beta services identity create --service=iap.googleapis.com "${P[@]}"

step "Cloud Run service ${SERVICE} in ${REGION}, built from this folder's Dockerfile"
# Session affinity: a session's websocket and its uploads go to the instance that holds it.
# No CPU throttling: runs and jobs go on between requests. One instance always up: no cold start.
run gcloud beta run deploy "$SERVICE" --source=. --region="$REGION" "${P[@]}" \
  --service-account="$SA_EMAIL" \
  --no-allow-unauthenticated --iap \
  --session-affinity --timeout="$TIMEOUT_S" \
  --min-instances=1 --max-instances="$MAX_INSTANCES" \
  --cpu="$CPU" --memory="$MEMORY" --no-cpu-throttling \
  --set-env-vars="$ENV_VARS" \
  ${DEPLOY_SQL[@]+"${DEPLOY_SQL[@]}"} \
  --quiet
run gcloud run services add-iam-policy-binding "$SERVICE" --region="$REGION" "${P[@]}" \
  --member="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-iap.iam.gserviceaccount.com" \
  --role=roles/run.invoker

step "Who may open it (IAP-secured Web App User)"
MEMBERS="${IAP_MEMBERS:-}"
if [[ -z "$MEMBERS" ]]; then
  MEMBERS="user:$(value YOU@EXAMPLE.COM gcloud config get-value account)"
fi
IFS=',' read -r -a MEMBER_LIST <<<"$MEMBERS"
for member in "${MEMBER_LIST[@]}"; do
  run gcloud beta iap web add-iam-policy-binding --resource-type=cloud-run \
    --service="$SERVICE" --region="$REGION" "${P[@]}" \
    --member="$member" --role=roles/iap.httpsResourceAccessor
done

step "CORS on gs://${BUCKET}: the browser uploads straight to Cloud Storage"
URL="$(value "https://${SERVICE}-${PROJECT_NUMBER}.${REGION}.run.app" \
  gcloud run services describe "$SERVICE" --region="$REGION" "${P[@]}" --format='value(status.url)')"
ORIGINS="\"${URL}\""
if [[ -n "${CORS_ORIGINS:-}" ]]; then
  IFS=',' read -r -a EXTRA_ORIGINS <<<"$CORS_ORIGINS"
  for origin in "${EXTRA_ORIGINS[@]}"; do ORIGINS+=", \"${origin}\""; done
fi
CORS_FILE="$(mktemp)"
trap 'rm -f "$CORS_FILE"' EXIT
cat >"$CORS_FILE" <<EOF
[
  {
    "origin": [${ORIGINS}],
    "method": ["GET", "HEAD", "PUT", "POST"],
    "responseHeader": ["Content-Type", "Content-Range", "Range", "Location", "X-Goog-Resumable"],
    "maxAgeSeconds": 3600
  }
]
EOF
printf '    %s:\n' "$CORS_FILE" >&3
sed 's/^/    /' "$CORS_FILE" >&3
run gcloud storage buckets update "gs://${BUCKET}" --cors-file="$CORS_FILE" "${P[@]}"

step "Done"
cat >&3 <<EOF
Reelscope: ${URL}   (IAP asks you to sign in; access can take a minute to apply)
Let someone else in:
  gcloud beta iap web add-iam-policy-binding --resource-type=cloud-run --service=${SERVICE} \\
    --region=${REGION} --project=${PROJECT} --member=user:THEM@EXAMPLE.COM \\
    --role=roles/iap.httpsResourceAccessor
Undo: README.md, "Deploy to Cloud Run".
EOF
if dry; then printf '(DRY_RUN=1: nothing was run.)\n' >&3; fi

{{/* Name of the chart, overridable. */}}
{{- define "drop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name of the release's objects: the release name when it already contains the
chart name (a release called "drop" yields "drop"), else "<release>-<chart>".
*/}}
{{- define "drop.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "drop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object, without a component. */}}
{{- define "drop.commonLabels" -}}
helm.sh/chart: {{ include "drop.chart" . }}
app.kubernetes.io/name: {{ include "drop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: drop
{{- end }}

{{/* Labels of the controller's objects. */}}
{{- define "drop.labels" -}}
{{ include "drop.commonLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{/*
Labels selecting the operator's Pods. Never app.kubernetes.io/managed-by=drop: that label marks
pull Pods, and the operator would take its own Pod for one.
*/}}
{{- define "drop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "drop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "drop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "drop.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace of pull Pods, of the Secrets Drop reads and of the leader Lease. */}}
{{- define "drop.podNamespace" -}}
{{- default .Release.Namespace .Values.podNamespace }}
{{- end }}

{{/* The operator image: by digest when one is given, else by tag (default: the appVersion). */}}
{{- define "drop.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Combinations the operator cannot run with, refused at render time. */}}
{{- define "drop.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: replicas without a leader would pull the same images twice" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.enabled" }}
{{- end }}
{{- end }}

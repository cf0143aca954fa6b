{{/* Names and labels shared by every template. */}}

{{- define "mynacar.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's prefix for object names: "<release>" when it already says mynacar, else "<release>-mynacar". */}}
{{- define "mynacar.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Object name of one service: call with (dict "root" $ "service" "booking"). */}}
{{- define "mynacar.serviceName" -}}
{{- printf "%s-%s" (include "mynacar.fullname" .root) .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mynacar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "mynacar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mynacar
{{- end -}}

{{- define "mynacar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mynacar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one service's objects: (dict "root" $ "service" "booking"). */}}
{{- define "mynacar.serviceLabels" -}}
{{ include "mynacar.labels" .root }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{- define "mynacar.serviceSelectorLabels" -}}
{{ include "mynacar.selectorLabels" .root }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{/* The image of one service: <registry>/mynacar-<service>:<tag>, or the service's own image block. */}}
{{- define "mynacar.image" -}}
{{- $own := .values.image | default dict -}}
{{- $repository := $own.repository | default (printf "%s/mynacar-%s" .root.Values.image.registry .service) -}}
{{- $tag := $own.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}

{{- define "mynacar.rabbitmqSecret" -}}
{{- if .Values.devInstances.enabled -}}{{ include "mynacar.fullname" . }}-dev-rabbitmq{{- else -}}{{ .Values.rabbitmq.existingSecret }}{{- end -}}
{{- end -}}

{{/* The database Secret one service reads: (dict "root" $ "identity" "booking"). */}}
{{- define "mynacar.mongodbIdentitySecret" -}}
{{- if and .root.Values.mongodb.secretPerService (not .root.Values.devInstances.enabled) -}}
{{ .root.Values.mongodb.existingSecret }}-{{ .identity }}
{{- else -}}
{{ include "mynacar.mongodbSecret" .root }}
{{- end -}}
{{- end -}}

{{/* The broker Secret one identity reads: (dict "root" $ "identity" "booking"); "keda" for KEDA. */}}
{{- define "mynacar.rabbitmqIdentitySecret" -}}
{{- if and .root.Values.rabbitmq.secretPerService (not .root.Values.devInstances.enabled) -}}
{{ .root.Values.rabbitmq.existingSecret }}-{{ .identity }}
{{- else -}}
{{ include "mynacar.rabbitmqSecret" .root }}
{{- end -}}
{{- end -}}

{{- define "mynacar.mongodbSecret" -}}
{{- if .Values.devInstances.enabled -}}{{ include "mynacar.fullname" . }}-dev-mongodb{{- else -}}{{ .Values.mongodb.existingSecret }}{{- end -}}
{{- end -}}

{{/* The container port every service listens on (WEB_SERVER_ADDRESS in its ConfigMap). */}}
{{- define "mynacar.httpPort" -}}8000{{- end -}}

{{/* Every service's settings, as JSON (use with fromJson): what its code says (files/services.json,
generated from deploy/services.py by `make docs`: API paths, queues, secrets it needs), under
serviceDefaults, under the operator's services.<name> block. A block for a service the list does
not know is a mistake, not a new service. */}}
{{- define "mynacar.services" -}}
{{- $facts := .Files.Get "files/services.json" | fromJson -}}
{{- range $name, $_ := .Values.services -}}
{{- if not (hasKey $facts $name) -}}
{{- fail (printf "services.%s: no such service (deploy/services.py lists %s)" $name (keys $facts | sortAlpha | join ", ")) -}}
{{- end -}}
{{- end -}}
{{- $all := dict -}}
{{- range $name, $own := $facts -}}
{{- $values := mustMergeOverwrite (deepCopy $own) (deepCopy $.Values.serviceDefaults) (deepCopy (index $.Values.services $name | default dict)) -}}
{{- if not $values.keda.queues -}}
{{- $_ := set $values.keda "enabled" false -}}{{/* nothing to scale on (the portal): fixed replicas */}}
{{- end -}}
{{- $_ := set $all $name $values -}}
{{- end -}}
{{- toJson $all -}}
{{- end -}}

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

{{- define "mynacar.mongodbSecret" -}}
{{- if .Values.devInstances.enabled -}}{{ include "mynacar.fullname" . }}-dev-mongodb{{- else -}}{{ .Values.mongodb.existingSecret }}{{- end -}}
{{- end -}}

{{/* The container port every service listens on (WEB_SERVER_ADDRESS in its ConfigMap). */}}
{{- define "mynacar.httpPort" -}}8000{{- end -}}

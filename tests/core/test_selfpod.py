"""Reading the supervisor's own pod: which container is the source, what is copied (references
stay references), what is left out, and finding the pod from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supervisor.selfpod import PvcMount, SelfPodError, read_self_pod, self_pod_location


class TestSourceContainer:
    def test_paperclip_container_even_when_not_first(self, self_pod_object: dict[str, Any]) -> None:
        pod = read_self_pod(self_pod_object)
        assert pod.image == "paperclipai/paperclip:latest"  # not the mesh sidecar listed first

    def test_first_container_without_a_paperclip_one(self, self_pod_object: dict[str, Any]) -> None:
        self_pod_object["spec"]["containers"][1]["name"] = "server"
        assert read_self_pod(self_pod_object).image == "istio/proxyv2:1.20"

    def test_no_spec(self) -> None:
        with pytest.raises(SelfPodError, match="pod p1 has no spec"):
            read_self_pod({"metadata": {"name": "p1"}})

    def test_no_containers(self) -> None:
        with pytest.raises(SelfPodError, match="has no containers"):
            read_self_pod({"metadata": {"name": "p1"}, "spec": {"containers": []}})

    def test_no_image(self) -> None:
        pod = {"metadata": {"name": "p1"}, "spec": {"containers": [{"name": "paperclip"}]}}
        with pytest.raises(SelfPodError, match="pod p1 has no container image"):
            read_self_pod(pod)


class TestCopiedFields:
    def test_identity(self, self_pod_object: dict[str, Any]) -> None:
        pod = read_self_pod(self_pod_object)
        assert (pod.name, pod.namespace) == ("paperclip-7d9f-abcde", "paperclip")

    def test_image_pull_secrets_skip_blank_names(self, self_pod_object: dict[str, Any]) -> None:
        self_pod_object["spec"]["imagePullSecrets"] = [{"name": "regcred"}, {"name": ""}, {}]
        assert read_self_pod(self_pod_object).image_pull_secrets == ({"name": "regcred"},)

    def test_pod_level_fields(self, self_pod_object: dict[str, Any]) -> None:
        spec = self_pod_object["spec"]
        spec["dnsConfig"] = {"nameservers": ["10.0.0.10"]}
        spec["securityContext"] = {"runAsUser": 1001, "fsGroup": 1001}
        spec["nodeSelector"] = {"pool": "paperclip"}
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        spec["affinity"] = {"podAffinity": {}}
        pod = read_self_pod(self_pod_object)
        assert pod.dns_config == {"nameservers": ["10.0.0.10"]}
        assert pod.security_context == {"runAsUser": 1001, "fsGroup": 1001}
        assert pod.node_selector == {"pool": "paperclip"}
        assert pod.tolerations == ({"key": "dedicated", "operator": "Exists"},)
        assert pod.affinity == {"podAffinity": {}}

    def test_absent_pod_level_fields(self) -> None:
        pod = read_self_pod({"metadata": {}, "spec": {"containers": [{"image": "i"}]}})
        assert pod.dns_config is None and pod.security_context is None and pod.affinity is None
        assert pod.node_selector == {} and pod.tolerations == ()
        assert pod.namespace is None

    def test_copies_are_independent_of_the_source(self, self_pod_object: dict[str, Any]) -> None:
        self_pod_object["spec"]["dnsConfig"] = {"nameservers": ["a"]}
        pod = read_self_pod(self_pod_object)
        self_pod_object["spec"]["dnsConfig"]["nameservers"].append("b")
        self_pod_object["spec"]["containers"][1]["envFrom"][0]["secretRef"]["name"] = "changed"
        assert pod.dns_config == {"nameservers": ["a"]}
        assert pod.env_from == ({"secretRef": {"name": "paperclip-secrets"}},)


class TestVolumes:
    def test_claim_mounts(self, self_pod_object: dict[str, Any]) -> None:
        pod = read_self_pod(self_pod_object)
        assert pod.pvc_mounts == (PvcMount("/paperclip", "paperclip-data"),)
        assert pod.pvc_at("/paperclip") == PvcMount("/paperclip", "paperclip-data")
        assert pod.pvc_at("/paperclip/") is not None
        assert pod.pvc_at("/work") is None

    def test_claim_sub_path(self, self_pod_object: dict[str, Any]) -> None:
        self_pod_object["spec"]["containers"][1]["volumeMounts"][0]["subPath"] = "t1"
        assert read_self_pod(self_pod_object).pvc_at("/paperclip") == PvcMount(
            "/paperclip", "paperclip-data", "t1"
        )

    def test_secret_volumes_of_the_source_container_only(
        self, self_pod_object: dict[str, Any]
    ) -> None:
        spec = self_pod_object["spec"]
        spec["volumes"].append({"name": "mesh-certs", "secret": {"secretName": "istio"}})
        spec["containers"][0]["volumeMounts"] = [{"name": "mesh-certs", "mountPath": "/certs"}]
        pod = read_self_pod(self_pod_object)
        assert [(s.volume_name, s.mount_path, s.secret) for s in pod.secret_volumes] == [
            ("gcp-creds", "/var/secrets/gcp", {"secretName": "gcp-sa", "defaultMode": 0o400})
        ]

    def test_mount_of_a_missing_volume_is_ignored(self, self_pod_object: dict[str, Any]) -> None:
        self_pod_object["spec"]["containers"][1]["volumeMounts"].append(
            {"name": "ghost", "mountPath": "/ghost"}
        )
        pod = read_self_pod(self_pod_object)
        assert all(s.mount_path != "/ghost" for s in pod.secret_volumes)


class TestEnv:
    def test_literal_values_non_empty_only(self, self_pod_object: dict[str, Any]) -> None:
        assert read_self_pod(self_pod_object).env == (
            ("PAPERCLIP_API_URL", "http://paperclip:8080"),
        )

    def test_value_from_kept_as_references(self, self_pod_object: dict[str, Any]) -> None:
        assert read_self_pod(self_pod_object).env_value_from == (
            {
                "name": "ANTHROPIC_AUTH_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": "llm", "key": "token"}},
            },
        )

    def test_env_from_copied(self, self_pod_object: dict[str, Any]) -> None:
        assert read_self_pod(self_pod_object).env_from == (
            {"secretRef": {"name": "paperclip-secrets"}},
        )

    def test_supervisor_settings_left_out(self, self_pod_object: dict[str, Any]) -> None:
        pod = read_self_pod(self_pod_object)
        names = [name for name, _ in pod.env] + [e["name"] for e in pod.env_value_from]
        assert "PAPERCLIP_SUPERVISOR_DB" not in names

    def test_field_refs_are_references_too(self, self_pod_object: dict[str, Any]) -> None:
        ref = {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
        self_pod_object["spec"]["containers"][1]["env"].append(ref)
        assert ref in read_self_pod(self_pod_object).env_value_from


class TestLocation:
    def test_needs_hostname(self, tmp_path: Path) -> None:
        with pytest.raises(SelfPodError, match="HOSTNAME"):
            self_pod_location({}, namespace_file=tmp_path / "ns")

    def test_paperclip_namespace_first(self, tmp_path: Path) -> None:
        environ = {"HOSTNAME": "p", "PAPERCLIP_NAMESPACE": "a", "POD_NAMESPACE": "b"}
        assert self_pod_location(environ, namespace_file=tmp_path / "ns") == ("p", "a")

    def test_pod_namespace_next(self, tmp_path: Path) -> None:
        environ = {"HOSTNAME": "p", "PAPERCLIP_NAMESPACE": " ", "POD_NAMESPACE": " b "}
        assert self_pod_location(environ, namespace_file=tmp_path / "ns") == ("p", "b")

    def test_service_account_file(self, tmp_path: Path) -> None:
        (tmp_path / "ns").write_text("from-file\n")
        assert self_pod_location({"HOSTNAME": "p"}, namespace_file=tmp_path / "ns") == (
            "p",
            "from-file",
        )

    def test_default(self, tmp_path: Path) -> None:
        assert self_pod_location({"HOSTNAME": "p"}, namespace_file=tmp_path / "ns") == (
            "p",
            "default",
        )

# A Coder template that runs each workspace as a KubeVirt VM made ready by
# coder-vm-bootstrap. coder-vm-seed (on the provisioner's PATH) renders the
# cloud-init Secret and the KubeVirt objects from one workspace spec.

terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.23"
    }
    external = {
      source  = "hashicorp/external"
      version = ">= 2.3"
    }
  }
}

variable "namespace" {
  type        = string
  description = "Namespace the workspace VMs run in (KubeVirt and CDI installed)."
  default     = "coder-workspaces"
}

variable "use_kubeconfig" {
  type        = bool
  description = "Use ~/.kube/config (true) or the provisioner's in-cluster service account (false)."
  default     = false
}

variable "agent_url" {
  type        = string
  description = "Where the agent in the VM reaches Coder, if not the access URL (e.g. an in-cluster Service). Empty: the access URL."
  default     = ""
}

variable "bootstrap_package_url" {
  type        = string
  description = "URL of the coder-vm-bootstrap release tarball (coder-vm-bootstrap-<version>-linux-amd64.tar.gz, which installs on every distribution with its install.sh) that cloud-init installs on first boot; stock cloud images lack it. Empty: the images have it baked in."
  default     = ""
}

variable "bootstrap_package_sha256" {
  type        = string
  description = "SHA-256 of that package (strongly advised)."
  default     = ""
}

variable "readiness_probe" {
  type        = string
  description = "How KubeVirt asks whether a VM is ready: http (GET /readyz over the pod network) or exec (coder-vm-bootstrap status --probe through qemu-guest-agent, for clusters whose pod network cannot reach the VM, such as IPv6-only or bridge binding; the image must run qemu-guest-agent)."
  default     = "http"
  validation {
    condition     = contains(["http", "exec"], var.readiness_probe)
    error_message = "readiness_probe is http or exec."
  }
}

variable "network_config" {
  type        = string
  description = "cloud-init network-config (version 2) for every VM, as YAML or JSON, e.g. a static address on a bridge-bound network. Empty: the image's own (DHCP)."
  default     = ""
}

provider "coder" {}

provider "kubernetes" {
  config_path = var.use_kubeconfig ? "~/.kube/config" : null
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "distribution" {
  name         = "distribution"
  display_name = "Distribution"
  description  = "The cloud image the root disk starts from (fixed for the life of the workspace)."
  type         = "string"
  default      = "debian-12"
  mutable      = false
  option {
    name  = "Debian 12"
    value = "debian-12"
  }
  option {
    name  = "Ubuntu 22.04"
    value = "ubuntu-22.04"
  }
  option {
    name  = "Fedora 39"
    value = "fedora-39"
  }
  option {
    name  = "Arch Linux"
    value = "arch"
  }
  option {
    name  = "AlmaLinux 9"
    value = "almalinux-9"
  }
  option {
    name  = "CentOS Stream 9"
    value = "centos-stream-9"
  }
  option {
    name  = "Rocky Linux 9"
    value = "rocky-9"
  }
}

data "coder_parameter" "cpu" {
  name         = "cpu"
  display_name = "CPU cores"
  type         = "number"
  default      = "2"
  mutable      = true
  validation {
    min = 1
    max = 16
  }
}

data "coder_parameter" "memory" {
  name         = "memory"
  display_name = "Memory (GiB)"
  type         = "number"
  default      = "4"
  mutable      = true
  validation {
    min = 1
    max = 64
  }
}

data "coder_parameter" "disk" {
  name         = "disk"
  display_name = "Disk (GiB)"
  type         = "number"
  default      = "16"
  # The DataVolume is imported once; changing its size later does not resize it.
  mutable = false
  validation {
    min = 10
    max = 500
  }
}

data "coder_parameter" "ssh_public_key" {
  name         = "ssh_public_key"
  display_name = "SSH public key (optional)"
  description  = "An authorized_keys line for direct SSH to the VM; `coder ssh` works without one."
  type         = "string"
  default      = ""
  mutable      = true
}

locals {
  user = "coder"
  # The workspace spec (see the project README) without the agent. Names are
  # lowercased: they become Kubernetes object names and the VM's host name.
  # Everything here is known when Terraform plans.
  machine_spec = {
    apiVersion = "coder-vm-bootstrap/v1"
    workspace = {
      owner = lower(data.coder_workspace_owner.me.name)
      name  = lower(data.coder_workspace.me.name)
      id    = data.coder_workspace.me.id
    }
    user = {
      name              = local.user
      sshAuthorizedKeys = compact([trimspace(data.coder_parameter.ssh_public_key.value)])
    }
    # null fields are left out (the spec treats null as absent).
    install = var.bootstrap_package_url == "" ? null : {
      packageURL = var.bootstrap_package_url
      sha256     = var.bootstrap_package_sha256 == "" ? null : var.bootstrap_package_sha256
    }
    network = var.network_config == "" ? null : yamldecode(var.network_config)
  }
  # The whole spec: the agent's token is new for every build and known only
  # when Terraform applies. cloud-init hands it to the daemon on every boot,
  # so a started workspace always has the current one.
  spec = merge(local.machine_spec, {
    coder = {
      accessURL = data.coder_workspace.me.access_url
      agentURL  = var.agent_url == "" ? null : var.agent_url
      token     = coder_agent.main.token
      arch      = "amd64"
    }
  })
  seed_options = {
    namespace    = var.namespace
    distro       = data.coder_parameter.distribution.value
    cpu          = data.coder_parameter.cpu.value
    memory       = "${data.coder_parameter.memory.value}Gi"
    disk         = "${data.coder_parameter.disk.value}Gi"
    run_strategy    = data.coder_workspace.me.start_count == 1 ? "Always" : "Halted"
    readiness_probe = var.readiness_probe
  }
}

# coder-vm-seed renders everything from the spec. The spec goes in on
# standard input as part of the query, never as an argument (a process's
# arguments are readable by every user).
#
# Two calls: kubernetes_manifest needs its manifest known when Terraform
# plans, and the agent token is not known then. The DataVolume, VM and
# Service do not depend on the agent, so they come from the spec without it;
# the Secret's user-data comes from the whole spec. Names, labels and the
# firmware UUID come from the workspace identity, the same in both.
data "external" "machine" {
  program = ["coder-vm-seed", "terraform-external"]
  query   = merge(local.seed_options, { spec_json = jsonencode(local.machine_spec) })
}

data "external" "userdata" {
  program = ["coder-vm-seed", "terraform-external"]
  query   = merge(local.seed_options, { spec_json = jsonencode(local.spec) })
}

# The cloud-init user-data (and network-config, when there is one).
# kubernetes_secret keeps `data` out of plans and logs (it holds the agent
# token).
resource "kubernetes_secret" "cloudinit" {
  metadata {
    name      = data.external.machine.result.secret_name
    namespace = var.namespace
    labels    = jsondecode(data.external.machine.result.labels_json)
  }
  type = "Opaque"
  data = {
    for key, value in {
      userdata    = data.external.userdata.result.userdata
      networkdata = data.external.userdata.result.networkdata
    } : key => value if value != ""
  }
}

# The root disk. Not tied to start_count: it stays while the workspace is
# stopped and goes only when the workspace is deleted.
resource "kubernetes_manifest" "root_disk" {
  manifest = jsondecode(data.external.machine.result.datavolume_json)
  computed_fields = [
    "metadata.annotations",
    "metadata.labels",
  ]
}

# The VM exists for the life of the workspace; a stop only sets
# runStrategy: Halted, so its firmware UUID (cloud-init's instance-id) and
# disk stay the same.
resource "kubernetes_manifest" "vm" {
  manifest = jsondecode(data.external.machine.result.virtualmachine_json)
  computed_fields = [
    "metadata.annotations",
    "metadata.labels",
    "spec.template.spec.domain.machine",
    "spec.template.spec.architecture",
  ]
  depends_on = [kubernetes_secret.cloudinit, kubernetes_manifest.root_disk]
}

resource "kubernetes_manifest" "service" {
  manifest = jsondecode(data.external.machine.result.service_json)
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"

  # The daemon's one-line state in the dashboard ("ready", "starting:
  # code-server downloading 41% of 120 MB"). `|| true`: the agent shows a
  # script that exits non-zero as an error instead of its output, and the
  # line is worth seeing most while the workspace is not ready.
  metadata {
    key          = "bootstrap"
    display_name = "coder-vm-bootstrap"
    script       = "coder-vm-bootstrap status --line || true"
    interval     = 10
    timeout      = 2
  }
}

# The daemon starts the agent; the workspace turns "ready" in Coder, and
# logins are let in, only when the daemon reports the whole VM ready. The
# script exits 0 ready, 2 degraded, 3 failed, 1 after 15 minutes without a
# verdict: anything but 0 shows as a failed start script in the dashboard.
# (coder_agent's startup_script_behavior, which did this before, is
# deprecated for coder_script.)
resource "coder_script" "bootstrap" {
  agent_id           = coder_agent.main.id
  display_name       = "coder-vm-bootstrap"
  script             = "coder-vm-bootstrap status --wait --timeout 900"
  run_on_start       = true
  start_blocks_login = true
}

resource "coder_app" "code_server" {
  agent_id     = coder_agent.main.id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:13337/?folder=/home/${local.user}"
  icon         = "/icon/code.svg"
  subdomain    = false
  share        = "owner"

  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

resource "coder_metadata" "vm" {
  count       = data.coder_workspace.me.start_count
  resource_id = kubernetes_manifest.vm.id
  item {
    key   = "host"
    value = data.external.machine.result.service_host
  }
  item {
    key   = "distribution"
    value = data.coder_parameter.distribution.value
  }
}

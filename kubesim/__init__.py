"""kubesim: an in-repo Kubernetes API simulator for tests and the demo."""

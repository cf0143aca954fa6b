"""Operators' and builders' tools, kept out of the runtime package `shared/`: dead letters
(`python -m deploy.tools.deadletters`), the audit chain's check (`python -m deploy.tools.audit`),
and the contract documents' generator (`python -m deploy.tools.apidocs`, `make docs`). The image
carries them, so operators run them with `kubectl exec`."""

"""The citizen's side: catalogue, applying once, following applications, notifications."""

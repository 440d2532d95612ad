"""Privacy (GDPR): consent per channel and purpose, subject-access export, erasure, retention."""

"""The broadcast engine: outbox work, limits, results and progress, over a Transport."""

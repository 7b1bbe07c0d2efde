"""The channels this process pushes through, by provider: Web Push always, APNs and FCM when the
operator configured them."""

from __future__ import annotations

from collections.abc import Iterable

from services.notify.push.channel import Channel, Provider


class Channels:
    def __init__(self, channels: Iterable[Channel]) -> None:
        self._by_provider: dict[Provider, Channel] = {}
        for channel in channels:
            if channel.provider in self._by_provider:
                raise ValueError(f"two channels for {channel.provider!r}")
            self._by_provider[channel.provider] = channel

    def configured(self, provider: Provider) -> bool:
        return provider in self._by_provider

    def get(self, provider: Provider) -> Channel | None:
        return self._by_provider.get(provider)

    async def close(self) -> None:
        for channel in self._by_provider.values():
            await channel.close()

"""Links to private, loopback and metadata addresses are refused; only vouched links preview."""

import pytest

from reelscope.media import SourceError, SourceKind, source_from_link
from reelscope.netguard import check_link


def resolves_to(*addresses: str):
    """A resolver that answers every name with these addresses, as DNS would."""

    def resolve(host: str) -> list[str]:
        return list(addresses)

    return resolve


def unresolvable(host: str) -> list[str]:
    raise OSError(f"no DNS answer for {host}")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x.mp4",
        "http://127.0.0.1/x.mp4",
        "https://127.8.9.10/x.mp4",
        "https://169.254.169.254/computeMetadata/v1/x.mp4",
        "https://10.1.2.3/x.mp4",
        "https://172.16.0.1/x.mp4",
        "https://172.31.255.254/x.mp4",
        "https://192.168.1.1/x.mp4",
        "https://0.0.0.0/x.mp4",
        "https://100.64.0.1/x.mp4",  # carrier-grade NAT
        "https://224.0.0.1/x.mp4",
        "https://240.0.0.1/x.mp4",
        "https://[::1]/x.mp4",
        "https://[::]/x.mp4",
        "https://[fc00::1]/x.mp4",
        "https://[fd12:3456::1]/x.mp4",
        "https://[fe80::1]/x.mp4",
        "https://[::ffff:127.0.0.1]/x.mp4",
        "https://[::ffff:169.254.169.254]/x.mp4",
        "https://[::ffff:a9fe:a9fe]/x.mp4",
        "https://[2002:7f00:1::]/x.mp4",  # 6to4 around 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/x.mp4",  # NAT64 around 169.254.169.254
        "https://127.1/x.mp4",  # browsers read these legacy forms as 127.0.0.1
        "https://2130706433/x.mp4",
        "https://0x7f.0.0.1/x.mp4",
        "https://017700000001/x.mp4",
        "https://１２７.０.０.１/x.mp4",  # fullwidth digits, mapped by IDNA
        "https://localhost/x.mp4",
        "https://LOCALHOST./x.mp4",
        "https://video.localhost/x.mp4",
        "https://metadata.google.internal/x.mp4",
        "https://999.1.1.1/x.mp4",
        "https://8.8.8.8\\@127.0.0.1/x.mp4",  # a browser and urllib disagree on this host
        "https://user@8.8.8.8/x.mp4",
        "https://127%2e0%2e0%2e1/x.mp4",
    ],
)
def test_non_public_hosts_are_refused(url):
    verdict = check_link(url, resolve=resolves_to("93.184.216.34"))
    assert not verdict.allowed
    assert not verdict.previewable
    assert verdict.reason


@pytest.mark.parametrize(
    ("addresses", "why"),
    [
        (("169.254.169.254",), "link-local"),
        (("127.0.0.1",), "loopback"),
        (("10.0.0.7",), "private"),
        (("::1",), "loopback"),
        (("fe80::1%eth0",), "link-local"),
        (("::ffff:192.168.0.1",), "private"),
        (("93.184.216.34", "10.0.0.7"), "private"),  # one private answer is enough (rebinding)
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused(addresses, why):
    verdict = check_link("https://videos.example.com/a.mp4", resolve=resolves_to(*addresses))
    assert not verdict.allowed
    assert "videos.example.com resolves to" in verdict.reason
    assert why in verdict.reason


def test_a_name_resolving_only_to_public_addresses_may_be_previewed():
    verdict = check_link(
        "https://videos.example.com/a.mp4",
        resolve=resolves_to("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"),
    )
    assert (verdict.allowed, verdict.previewable) == (True, True)


def test_a_public_ip_literal_needs_no_resolution():
    def must_not_resolve(host: str) -> list[str]:
        raise AssertionError(f"resolved {host}")

    verdict = check_link("https://8.8.8.8/a.mp4", resolve=must_not_resolve)
    assert (verdict.allowed, verdict.previewable) == (True, True)


@pytest.mark.parametrize("resolver", [unresolvable, resolves_to()])
def test_an_unresolvable_name_goes_to_vertex_but_is_not_previewed(resolver):
    verdict = check_link("https://videos.example.com/a.mp4", resolve=resolver)
    assert (verdict.allowed, verdict.previewable) == (True, False)
    assert "not previewed" in verdict.reason


@pytest.mark.parametrize(
    "url", ["ftp://8.8.8.8/a.mp4", "https:///a.mp4", "https://8.8.8.8:port/a.mp4"]
)
def test_malformed_links_are_refused(url):
    assert not check_link(url, resolve=unresolvable).allowed


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x.mp4",
        "https://169.254.169.254/latest/x.mp4",
        "https://[::1]/x.mp4",
        "https://localhost:8501/x.mp4",
        "http://192.168.0.1/x.mp4",
    ],
)
def test_source_from_link_refuses_private_links_with_the_reason(url):
    with pytest.raises(SourceError, match="only links to public addresses"):
        source_from_link(url)


def test_links_say_whether_the_browser_may_load_them():
    youtube = source_from_link("https://youtu.be/dQw4w9WgXcQ")
    gcs = source_from_link("gs://bucket/clip.mp4")
    public = source_from_link("https://8.8.8.8/clip.mp4")
    assert (youtube.kind, youtube.previewable) == (SourceKind.YOUTUBE, True)
    assert (gcs.kind, gcs.previewable) == (SourceKind.GCS, False)
    assert (public.kind, public.previewable) == (SourceKind.HTTPS, True)

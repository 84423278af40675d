"""The customers' API page: the list of addresses that may use their key."""

import ipaddress
import re

from django import forms

from accounts.services import MAX_ALLOWED_NETWORKS

MAX_LIST_LENGTH = 4000  # characters of the text box: 20 IPv6 networks with room for comments' spaces


class AllowListForm(forms.Form):
    """One address or network a line (commas and spaces work too); empty: any address may use the key.
    Gives `networks`, canonical ("203.0.113.7", "198.51.100.0/24", "2001:db8::/48"), without repeats."""

    networks = forms.CharField(
        required=False, max_length=MAX_LIST_LENGTH, widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        label="Addresses that may use the key",
        help_text=f"One IPv4 or IPv6 address or network a line (e.g. 203.0.113.7 or 198.51.100.0/24), at most "
                  f"{MAX_ALLOWED_NETWORKS}. Empty: any address.",
    )

    def clean_networks(self) -> list[str]:
        text = self.cleaned_data.get("networks") or ""
        entries, wrong = [], []
        for entry in (part for part in re.split(r"[\s,;]+", text) if part):
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                wrong.append(entry)
                continue
            if network.version == 6 and network.prefixlen >= 96 and network.network_address.ipv4_mapped:
                mapped = network.network_address.ipv4_mapped
                network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
            if network.prefixlen == 0:
                raise forms.ValidationError(f"{entry} would let every address use the key: leave the box empty "
                                            f"for that.")
            text_form = str(network.network_address) if network.num_addresses == 1 else str(network)
            if text_form not in entries:
                entries.append(text_form)
        if wrong:
            shown = ", ".join(wrong[:5]) + (" …" if len(wrong) > 5 else "")
            raise forms.ValidationError(f"Not an IP address or network: {shown}")
        if len(entries) > MAX_ALLOWED_NETWORKS:
            raise forms.ValidationError(f"At most {MAX_ALLOWED_NETWORKS} addresses or networks "
                                        f"({len(entries)} given).")
        return entries

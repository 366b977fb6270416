"""Postal addresses kept as the lines a window envelope shows."""

import pytest

from domain.addresses import (
    AddressParts,
    InvalidAddress,
    address_parts,
    address_text,
    postal_address,
    postcode_of,
)


def test_an_address_typed_by_a_person_is_kept_line_by_line_without_blanks():
    typed = "  Service   fournisseurs\r\n\r\n12 rue de la Paix \n75002 Paris\n"
    assert postal_address(typed, "billing_address") == (
        "Service fournisseurs\n12 rue de la Paix\n75002 Paris")


def test_an_address_in_parts_puts_the_city_in_capitals_and_france_aside():
    text = address_text(["3 quai Perrache", "Bâtiment B"], "69002", "Lyon", "France")
    assert text == "3 quai Perrache\nBâtiment B\n69002 LYON"
    assert address_parts(text) == AddressParts(("3 quai Perrache", "Bâtiment B"), "69002",
                                               "LYON")
    abroad = address_text(["Rue Neuve 1"], "1000", "Bruxelles", "Belgique")
    assert abroad == "Rue Neuve 1\n1000 BRUXELLES\nBELGIQUE"
    assert address_parts(abroad).country == "BELGIQUE"
    assert postcode_of(abroad) == "1000"
    assert address_text([], "", "", "France") == ""


def test_an_address_too_long_for_an_envelope_is_refused():
    with pytest.raises(InvalidAddress):
        postal_address("\n".join(f"ligne {i}" for i in range(7)), "registered_office")
    with pytest.raises(InvalidAddress):
        postal_address("x" * 101, "registered_office")

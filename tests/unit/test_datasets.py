"""Dataset adapters: tiny hand-written inputs in each source schema -> bundle + truth.csv."""

from __future__ import annotations

import csv
import gzip
import ipaddress
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from graph.datasets import ADAPTERS, import_dataset
from graph.datasets import aws_fraud as aws_adapter
from graph.datasets._bundle import connected_groups, token
from graph.datasets.ip_asn import network_class, range_to_cidrs
from graph.ingest.card_numbers import contains_card_number
from graph.ingest.rows import PARSERS

LINKS_HEADER = ["account_id", "kind", "value", "first_seen", "last_seen", "count"]
TRUTH_HEADER = ["account_id", "ring_id", "organization", "cohort"]
PAN = "4111111111111111"  # a Luhn-valid test card number
assert contains_card_number(PAN)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _truth(out: Path) -> dict[str, tuple[str, str]]:
    header, rows = _rows(out / "truth.csv")
    assert header == TRUTH_HEADER
    return {r["account_id"]: (r["ring_id"], r["cohort"]) for r in rows}


def _links(out: Path) -> list[dict[str, str]]:
    header, rows = _rows(out / "links.csv")
    assert header == LINKS_HEADER
    return rows


def _check_bundle(out: Path, accounts_header: list[str]) -> None:
    """Exact headers, every row accepted by the loader's parsers, no raw PAN anywhere."""
    header, accounts = _rows(out / "accounts.csv")
    assert header == accounts_header
    links = _links(out)
    for name, rows in (("accounts", accounts), ("links", links)):
        for row in rows:
            PARSERS[name](row)
            assert not any(contains_card_number(v) for v in row.values()), row
    ids = {r["account_id"] for r in accounts}
    assert {r["account_id"] for r in links} <= ids
    assert set(_truth(out)) == ids
    for row in links:
        if row["first_seen"]:
            assert row["first_seen"].endswith("Z") and "T" in row["first_seen"]


def _deterministic(run: Callable[[Path], object], tmp_path: Path) -> None:
    run(tmp_path / "a")
    run(tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_registry_names_and_unknown_name(tmp_path: Path) -> None:
    assert {"paysim", "fraud_ecommerce", "aws_fraud", "datastax", "neo4j_demo", "ip_asn"} <= set(ADAPTERS)
    with pytest.raises(ValueError, match="unknown dataset"):
        import_dataset("nope", tmp_path, tmp_path / "out")


def test_connected_groups_are_sorted_and_transitive() -> None:
    pairs = [("b", "k1"), ("a", "k1"), ("c", "k2"), ("a", "k2"), ("d", "k3"), ("e", "k4"), ("f", "k4")]
    assert connected_groups(pairs) == [["a", "b", "c"], ["e", "f"]]
    assert connected_groups(pairs, min_size=3) == [["a", "b", "c"]]


# --- paysim -------------------------------------------------------------------------------------

PAYSIM = """
"EMAIL","ID","ISFRAUD","NAME","PHONENUMBER","SSN"
"A.One@Example.com","4111111111111111","true","A One","997-586-014","111-11-1111"
"two@example.com","4000000000000002","true","B Two","997-586-014","222-22-2222"
"three@example.com","4000000000000010","true","C Three","555-000-111","222-22-2222"
"four@example.com","4000000000000028","false","D Four","555-000-222","444-44-4444"
"five@example.com","4000000000000036","true","E Five","555-000-333","555-55-5555"
"""


def test_paysim(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src / "clients.csv", PAYSIM)
    out = tmp_path / "out"
    summary = import_dataset("paysim", src, out)
    _check_bundle(out, ["account_id", "email"])
    assert summary.accounts == 5 and summary.true_rings == 1
    truth = _truth(out)
    one, two, three, four, five = (token("ps", n) for n in (PAN, "4000000000000002", "4000000000000010",
                                                            "4000000000000028", "4000000000000036"))
    # one ring: phone joins 1-2, SSN joins 2-3 (SSN is used for truth only)
    ring = truth[one][0]
    assert ring and truth[two][0] == ring == truth[three][0]
    assert truth[five] == ("", "fraud")
    assert truth[four] == ("", "legit")
    links = _links(out)
    assert {r["kind"] for r in links} == {"phone"}
    assert {r["value"] for r in links if r["account_id"] == one} == {"997586014"}
    _header, accounts = _rows(out / "accounts.csv")
    assert {a["account_id"]: a["email"] for a in accounts}[one] == "a.one@example.com"
    text = "".join(p.read_text() for p in out.iterdir())
    # The client ids are card-number shaped (and Luhn-valid): none may reach the bundle, prefixed or not.
    assert not contains_card_number(text) and "4000000000000" not in text
    assert "111-11-1111" not in text and "111111111" not in text
    _deterministic(lambda o: import_dataset("paysim", src, o), tmp_path / "det")


# --- fraud_ecommerce ------------------------------------------------------------------------------

ECOM = """
\ufeffuser_id,signup_time,purchase_time,purchase_value,device_id,source,browser,sex,age,ip_address,class
1,2/24/2015 22:55,4/18/2015 2:47,34,AAAAAAAAAAAAA,SEO,Chrome,M,39,732758368.8,1
2,2/24/2015 22:56,2/24/2015 22:56,20,AAAAAAAAAAAAA,Ads,Chrome,F,30,1000.0,1
3,3/1/2015 1:00,3/1/2015 1:01,15,BBBBBBBBBBBBB,Direct,Safari,F,25,1000.0,0
4,3/2/2015 1:00,3/9/2015 1:01,15,CCCCCCCCCCCCC,Direct,Safari,F,25,2000,0
5,8/11/2015 19:00,,,,,,,,,
"""
COUNTRY = """
lower_bound_ip_address,upper_bound_ip_address,country
16777216.0,16777471,Australia
732758000,732759000,Japan
"""


def test_fraud_ecommerce(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src / "fraud_data.csv", ECOM)
    _write(src / "IpAddress_to_Country.csv", COUNTRY)
    out = tmp_path / "out"
    summary = import_dataset("fraud_ecommerce", src, out)
    _check_bundle(out, ["account_id", "created_at", "country", "purchase_value", "source", "browser"])
    assert summary.accounts == 4 and summary.skipped == {"row without user, device or ip": 1}
    _header, accounts = _rows(out / "accounts.csv")
    first = accounts[0]
    assert first["created_at"] == "2015-02-24T22:55:00Z" and first["country"] == "Japan"
    assert "sex" not in first and "age" not in first
    links = {(r["account_id"], r["kind"]): r for r in _links(out)}
    assert links[("1", "ip")]["value"] == str(ipaddress.IPv4Address(732758368))
    assert links[("2", "ip")]["value"] == "0.0.3.232"
    assert links[("1", "device")]["last_seen"] == "2015-04-18T02:47:00Z"
    truth = _truth(out)
    # fraud users 1 and 2 share a device; 3 shares an IP with 2 but is legit -> not in the ring
    assert truth["1"][0] and truth["1"][0] == truth["2"][0]
    assert truth["3"] == ("", "legit") and truth["4"] == ("", "legit")
    _deterministic(lambda o: import_dataset("fraud_ecommerce", src, o), tmp_path / "det")


# --- aws_fraud ------------------------------------------------------------------------------------

REG20K = """
ip_address,email_address,EVENT_TIMESTAMP,EVENT_LABEL
10.0.0.1,fake_a@example.org,2022-05-30T00:00:18Z,fraud
10.0.0.1,fake_b@example.org,2022-05-30T00:01:18Z,fraud
10.0.0.2,fake_a@example.org,2022-05-30T00:02:18Z,fraud
10.0.0.3,fake_a@example.org,2022-05-30T00:03:18Z,legit
"""
REG2K = """
ip_address,email_address,billing_state,user_agent,billing_postal,phone_number,EVENT_TIMESTAMP,billing_address,EVENT_LABEL
10.1.0.1,fake_c@example.net,WY,"Mozilla/5.0 (X11; Linux)",33953,(555)355 - 1785,2022-12-04T06:07:46Z,1 Fake St.,fraud
10.1.0.2,fake_d@example.net,NY,"Mozilla/5.0 (X11; Linux)",33872,(555)3551785,2022-12-05T10:30:41Z,2 Fake St.,fraud
10.1.0.3,fake_e@example.net,NY,Opera/9.84,33872,555-999-0000,2022-12-05T10:30:41Z,3 Fake St.,
"""
TXN_HEADER = (
    "EVENT_LABEL,EVENT_TIMESTAMP,LABEL_TIMESTAMP,EVENT_ID,ENTITY_TYPE,ENTITY_ID,card_bin,customer_name,"
    "billing_street,billing_city,billing_state,billing_zip,billing_latitude,billing_longitude,"
    "billing_country,customer_job,ip_address,customer_email,billing_phone,user_agent,product_category,"
    "order_price,payment_currency,merchant\n"
)
TXN = TXN_HEADER + (
    "0,2022-12-24T15:53:30Z,2022-12-24T15:53:30Z,e1,customer,070-69-2161,304027,Dennis,4900 Zachary,"
    "Stockton,NY,14784,42.3,-79.3,US,Job,25.45.36.165,jason@lynch.org,+1-021-436-2616-2085,Opera/9.84,"
    "shopping_net,7.53,BIF,m\n"
    "1,2022-12-20T15:53:30Z,2022-12-24T15:53:30Z,e2,customer,070-69-2161,304027,Dennis,4900 Zachary,"
    "Stockton,NY,14784,42.3,-79.3,US,Job,25.45.36.166,jason@lynch.org,1-704-197-0562-91028,Opera/9.84,"
    "shopping_net,7.53,BIF,m\n"
)


def test_aws_fraud(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with gzip.open(src / "registration_data_20K_minimum.csv.gz", "wt") as f:
        f.write(REG20K.lstrip("\n"))
    _write(src / "registration_data_2K_coldstart.csv", REG2K)
    _write(src / "transaction_data_2K_coldstart.csv", TXN)
    out = tmp_path / "out"
    summary = import_dataset("aws_fraud", src, out)
    _check_bundle(out, ["account_id", "created_at", "email", "billing_state", "card_bin"])
    assert summary.accounts == 4 + 3 + 1
    assert summary.skipped == {"malformed phone": 1}
    truth = _truth(out)
    # 20K: events 1 and 2 share an IP; event 3 shares only an email with them -> not joined
    assert truth["r20k-0001"][0] and truth["r20k-0001"][0] == truth["r20k-0002"][0]
    assert truth["r20k-0003"] == ("", "fraud") and truth["r20k-0004"] == ("", "legit")
    # 2K: the phone in two spellings is one phone; the user agent is a ua_ token on a device link
    assert truth["r2k-0001"][0] and truth["r2k-0001"][0] == truth["r2k-0002"][0]
    assert truth["r2k-0003"] == ("", "unlabeled")
    links = _links(out)
    phones = {r["value"] for r in links if r["kind"] == "phone" and r["account_id"].startswith("r2k")}
    assert phones == {"5553551785", "5559990000"}
    devices = {r["value"] for r in links if r["kind"] == "device"}
    assert all(v.startswith("ua_") for v in devices)
    assert not [r for r in links if r["kind"] == "payment"]  # a BIN is no payment instrument
    (txc,) = [a for a in truth if a.startswith("txc-")]
    assert truth[txc] == ("", "fraud")
    text = "".join(p.read_text() for p in out.iterdir())
    assert "070-69-2161" not in text and "Mozilla" not in text
    _header, accounts = _rows(out / "accounts.csv")
    assert {a["account_id"]: a for a in accounts}[txc]["created_at"] == "2022-12-20T15:53:30Z"
    only = aws_adapter.import_parts(src, tmp_path / "only", ["registration_2k"])
    assert only.accounts == 3
    _deterministic(lambda o: import_dataset("aws_fraud", src, o), tmp_path / "det")


# --- datastax -------------------------------------------------------------------------------------

C = "10000000-0000-0000-0000-0000000000"


def _datastax(src: Path) -> None:
    _write(
        src / "customers.csv",
        "customerid|firstname|lastname|email|phone|createdtime\n"
        + "".join(
            f"{C}{n}|F|L|p{n}@Example.com|{phone}|2017-04-01T00:00:00.00Z\n"
            for n, phone in (
                ("01", "100-000-0001"),
                ("02", "100-000-0014"),
                ("03", "100-000-0014"),
                ("04", "100-000-0014"),
                ("05", "100-000-0005"),
            )
        ),
    )
    _write(
        src / "customerAddresses.csv",
        "customerid|address|city|state|postalcode|countrycode\n"
        f"{C}01|1 A|X|AK|1|US\n{C}02|2 B|X|AK|1|US\n{C}03|3 C|X|AK|1|US\n"
        f"{C}04|4 D|X|AK|1|US\n{C}05|4 D|X|AK|1|US\n",
    )
    _write(
        src / "sessions.csv",
        "sessionid|deviceid|ipaddress|createdtime\n"
        "s1|d1|111.111.111.1|2017-04-01T00:00:00.00Z\ns2|d1|111.111.111.2|2017-04-02T00:00:00.00Z\n",
    )
    _write(src / "customerSessions.csv", f"customerid|sessionid\n{C}01|s1\n{C}02|s2\n")
    _write(
        src / "orders.csv",
        "orderid|createdtime|outcome|creditcardhashed|ipaddress|amount|deviceid\n"
        f"o1|2017-04-04T00:00:00Z|Approved|{PAN}|111.111.113.1|1.00|d3\n"
        "o2|2017-04-05T00:00:00Z|Declined|a1ab|111.111.114.1|1.00|d4\n",
    )
    _write(src / "customerOrders.csv", f"customerid|orderid\n{C}03|o1\n{C}03|o2\n")
    _write(src / "customerChargebacks.csv", f"customerid|chargebacknumber\n{C}03|1\n")


def test_datastax_placeholder_phone_kept_apart(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _datastax(src)
    out = tmp_path / "out"
    summary = import_dataset("datastax", src, out)
    _check_bundle(out, ["account_id", "created_at", "email", "country", "declined_orders", "chargebacks"])
    assert summary.accounts == 5
    truth = _truth(out)
    # 01-02 share a device (scenario 2's key customer is 02); 04-05 share an address; 02/03/04 share
    # only the placeholder phone and stay apart
    assert truth[f"{C}01"] == truth[f"{C}02"] == ("scenario-2", "suspicious")
    assert truth[f"{C}04"] == ("scenario-4", "fraud") == truth[f"{C}05"]
    assert truth[f"{C}03"] == ("", "legit")
    links = _links(out)
    placeholder = [r for r in links if r["kind"] == "phone" and r["value"] == "1000000014"]
    assert len(placeholder) == 3  # exported: the projection must cope with it
    payments = [r["value"] for r in links if r["kind"] == "payment"]
    assert len(payments) == 2 and all(v.startswith("pm_") for v in payments)
    assert PAN not in (out / "links.csv").read_text()
    _header, accounts = _rows(out / "accounts.csv")
    by_id = {a["account_id"]: a for a in accounts}
    assert by_id[f"{C}03"]["declined_orders"] == "1" and by_id[f"{C}03"]["chargebacks"] == "1"
    assert by_id[f"{C}01"]["created_at"] == "2017-04-01T00:00:00Z"
    assert by_id[f"{C}01"]["email"] == "p01@example.com"
    _deterministic(lambda o: import_dataset("datastax", src, o), tmp_path / "det")


# --- neo4j_demo / neo4j_er ----------------------------------------------------------------------------


def test_neo4j_demo(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(
        src / "Customer.csv",
        "fraudFlag,louvainCommunity,customerID,name,dateOfBirth,betweenness,pagerank\n"
        "True,48,c1,A,1973-11-15T00:00:00Z,1,1\nFalse,48,c2,B,1973-11-15T00:00:00Z,1,1\n"
        "False,7,c3,C,1973-11-15T00:00:00Z,1,1\n",
    )
    _write(src / "Email.csv", "emailAddress,emailID\nX@Yahoo.de,e1\nz@gmail.com,e2\n")
    _write(src / "Customer_USES_EMAIL_Email.csv", "start_Customer_customerID,end_Email_emailID\nc1,e1\nc2,e1\nc3,e2\n")
    _write(src / "PhoneNumber.csv", "number,phoneNumberID\n+1-555-6768,p1\n")
    _write(
        src / "Customer_USES_PHONE_PhoneNumber.csv",
        "start_Customer_customerID,end_PhoneNumber_phoneNumberID\nc1,p1\nc3,p1\n",
    )
    _write(
        src / "Account_with_labels.csv",
        "\ufeffaccountID,accountType,accountNumber,status,balance,louvainCommunity,pagerank,"
        f"internalExternal,highRiskJurisdiction\na1,Savings,{PAN},Closed,1,48,0.5,Internal,false\n",
    )
    _write(src / "Customer_HAS_ACCOUNT_Account.csv", "start_Customer_customerID,end_Account_accountID\nc2,a1\n")
    _write(src / "Address.csv", "country,city,street,state,addressID\nUSA,R,1 B St,NY,ad1\n")
    _write(src / "Customer_RESIDES_AT_Address.csv", "start_Customer_customerID,end_Address_addressID\nc1,ad1\n")
    out = tmp_path / "out"
    import_dataset("neo4j_demo", src, out)
    _check_bundle(out, ["account_id", "email", "country"])
    truth = _truth(out)
    assert truth == {"c1": ("louvain-48", "fraud"), "c2": ("louvain-48", "legit"), "c3": ("", "legit")}
    links = _links(out)
    assert {(r["account_id"], r["kind"], r["value"]) for r in links if r["kind"] == "phone"} == {
        ("c1", "phone", "+15556768"),
        ("c3", "phone", "+15556768"),
    }
    (payment,) = [r for r in links if r["kind"] == "payment"]
    assert payment["value"].startswith("pm_") and PAN not in (out / "links.csv").read_text()
    _deterministic(lambda o: import_dataset("neo4j_demo", src, o), tmp_path / "det")


def test_neo4j_er(tmp_path: Path) -> None:
    src = tmp_path / "src"
    header = (
        "profile_id,profile_name,identity_id,first_name,last_name,nickname,birth_year,email_address,"
        "phone_number,street_number,street_name,city,state,country,zip_code\n"
    )
    _write(
        src / "er_mock_data.csv",
        header
        + "p1,A,i1,A,B,a,1988,A@hotmail.com,8316217401,1,R,C,S,United States,1\n"
        + "p1,A,i2,A,B,a,1988,co86@hotmailjcom,831621s7401,1,R,C,S,United States,1\n"
        + "p2,B,i3,A,B,a,1988,b@x.com,5550001111,1,R,C,S,United States,1\n",
    )
    out = tmp_path / "out"
    summary = import_dataset("neo4j_er", src, out)
    _check_bundle(out, ["account_id", "email", "country"])
    assert summary.skipped == {"malformed email": 1, "malformed phone": 1}
    assert _truth(out) == {"i1": ("p1", "identity"), "i2": ("p1", "identity"), "i3": ("", "identity")}


# --- ip_asn ---------------------------------------------------------------------------------------

ASN = """
1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
1.0.1.0,1.0.2.255,38803,Gtelecom Pty Ltd
3.0.0.0,3.0.255.255,16509,"Amazon.com, Inc."
"""
CLOUD = """
provider,cidr
amazon,3.0.0.0/16
protonvpn,1.0.2.0/24
apple-proxy,9.9.9.0/24
"""


def test_ip_asn(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with gzip.open(src / "asn-ipv4.csv.gz", "wt") as f:
        f.write(ASN.lstrip("\n"))
    _write(src / "cloud_ranges" / "cloud_provider_ipv4_ranges.csv", CLOUD)
    _write(src / "DBIP-LICENSE", "DB-IP licence text")
    out = tmp_path / "out"
    summary = import_dataset("ip_asn", src, out)
    assert sorted(p.name for p in out.iterdir()) == ["ATTRIBUTION.txt", "ip_ranges.csv"]
    header, rows = _rows(out / "ip_ranges.csv")
    assert header == ["cidr", "asn", "organization", "network"]
    for row in rows:
        PARSERS["ip_ranges"](row)
    got = [(r["cidr"], r["asn"], r["organization"], r["network"]) for r in rows]
    assert got == [
        ("1.0.0.0/24", "13335", "Cloudflare, Inc.", "unknown"),
        ("1.0.1.0/24", "38803", "Gtelecom Pty Ltd", "unknown"),
        ("1.0.2.0/24", "38803", "Gtelecom Pty Ltd", "vpn"),  # the cloud row replaces the ASN row
        ("3.0.0.0/16", "16509", "Amazon.com, Inc.", "hosting"),
        ("9.9.9.0/24", "", "apple-proxy", "vpn"),
    ]
    assert summary.ip_ranges == 5
    notice = (out / "ATTRIBUTION.txt").read_text()
    assert "CC BY 4.0" in notice and "db-ip.com" in notice.lower() and "DB-IP licence text" in notice
    _deterministic(lambda o: import_dataset("ip_asn", src, o), tmp_path / "det")


def test_ip_asn_asn_block_inside_cloud_range_takes_its_class(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with gzip.open(src / "asn-ipv4.csv.gz", "wt") as f:
        f.write("52.94.0.0,52.94.7.255,16509,Amazon\n52.94.8.0,52.94.8.255,16509,Amazon\n")
    _write(src / "cloud_ranges" / "cloud_provider_ipv4_ranges.csv", "provider,cidr\namazon,52.94.0.0/20\n")
    import_dataset("ip_asn", src, tmp_path / "out")
    _header, rows = _rows(tmp_path / "out" / "ip_ranges.csv")
    assert {r["cidr"]: r["network"] for r in rows} == {
        "52.94.0.0/20": "hosting",
        "52.94.0.0/21": "hosting",
        "52.94.8.0/24": "hosting",
    }


def test_network_class() -> None:
    assert network_class("protonvpn") == "vpn"
    assert network_class("apple-proxy") == "vpn"
    assert network_class("tor") == "tor"
    assert network_class("amazon") == network_class("googlebot") == "hosting"


def test_range_to_cidrs_matches_ipaddress() -> None:
    rng = random.Random(7)
    starts, ends = [0, 2**32 - 1, 0], [2**32 - 1, 2**32 - 1, 0]
    for _ in range(300):
        a = rng.randrange(2**32)
        b = min(2**32 - 1, a + rng.choice([0, 1, 255, 256, 1000, 65535, 10**6, 10**8]))
        starts.append(a)
        ends.append(b)
    index, nets, lengths = range_to_cidrs(np.asarray(starts, np.int64), np.asarray(ends, np.int64))
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        expected = [
            (int(n.network_address), n.prefixlen)
            for n in ipaddress.summarize_address_range(ipaddress.IPv4Address(a), ipaddress.IPv4Address(b))
        ]
        got = [(int(n), int(ln)) for n, ln in zip(nets[index == i], lengths[index == i], strict=True)]
        assert sorted(got) == expected


def test_the_bundle_builder_writes_no_card_number(tmp_path: Path) -> None:
    from graph.datasets._bundle import BundleBuilder

    bundle = BundleBuilder("t", ("note",))
    bundle.account("acc-1", email=f"{PAN}@example.org", note=f"card {PAN}")
    assert bundle.link("acc-1", "device", f"dev-{PAN}") is None
    assert bundle.link("acc-1", "phone", "378282246310005") is None  # an Amex number as a phone
    assert bundle.link("acc-1", "device", "dev-1") == "dev-1"
    with pytest.raises(ValueError, match="token"):
        bundle.account(f"ps-{PAN}")
    summary = bundle.write(tmp_path / "out")
    assert not contains_card_number("".join(p.read_text() for p in (tmp_path / "out").iterdir()))
    assert summary.skipped == {"device that looks like a card number": 1, "email that looks like a card number": 1,
                               "note that looks like a card number": 1, "phone that looks like a card number": 1}

#!/usr/bin/python3
"""Bootstrap the saharagen testbed through the OpenStack APIs (one process).

  bootstrap.py keystone   -> service users, roles, catalog (incl. swift),
                             the test project + user
  bootstrap.py heat       -> Heat: the heat service user, the orchestration
                             endpoints, the stack domain and its admin, the
                             heat_stack_owner/heat_stack_user roles (the
                             test user owns stacks in its projects)
  bootstrap.py resources  -> waits for the compute hosts; flavors, images with
                             Sahara image-registry properties, networks,
                             router, quotas; the second test project
                             saharagen-nostore (no object storage in its
                             catalog); writes TB_DIR/{clouds.yaml, openrc,
                             openrc-nostore, openrc-admin, env.json}
Idempotent.
"""
import json
import os
import subprocess
import sys
import time

import openstack
from openstack import exceptions

PASS = os.environ.get("TESTBED_PASSWORD", "secret")
IP = "127.0.0.1"
KS = "http://%s:5000/v3" % IP
REGION = "RegionOne"
PROJECT = "saharagen"
USER = "saharagen"
USER_PASS = os.environ.get("TESTBED_USER_PASSWORD", "saharagen-testbed")
IMAGE_USER = "ubuntu"
CLOUD = "saharagen-testbed"
# The second test project: the same user and resources, but its tokens'
# catalog has no object storage (Keystone endpoint filtering, OS-EP-FILTER).
NOSTORE_PROJECT = "saharagen-nostore"
NOSTORE_CLOUD = CLOUD + "-nostore"
NOSTORE_HIDDEN = ("object-store",)  # service types left out of its catalog
NET, SUBNET, CIDR, GW = "saharagen-net", "saharagen-subnet", "10.90.0.0/24", "10.90.0.1"
PUB, PUB_CIDR, PUB_GW = "public", "172.24.4.0/24", "172.24.4.1"
VANILLA = ["2.7.1", "2.7.5", "2.8.2", "3.3.6", "3.4.1"]


def conn(project="admin", user="admin", password=PASS):
    return openstack.connect(
        auth_url=KS, username=user, password=password, project_name=project,
        user_domain_name="Default", project_domain_name="Default",
        region_name=REGION, identity_api_version="3")


def get_or_create(find, create, name, **kw):
    obj = find(name)
    return obj if obj else create(name=name, **kw)


def keystone():
    c = conn()
    idn = c.identity
    default = idn.find_domain("default")
    service = get_or_create(idn.find_project, idn.create_project, "service",
                            domain_id=default.id)
    proj = get_or_create(idn.find_project, idn.create_project, PROJECT,
                         domain_id=default.id,
                         description="saharagen testbed test project")
    roles = {}
    for r in ("admin", "member", "reader", "service", "ResellerAdmin"):
        roles[r] = get_or_create(idn.find_role, idn.create_role, r)
    for u in ("glance", "placement", "nova", "neutron", "cinder", "swift"):
        user = get_or_create(idn.find_user, idn.create_user, u,
                             password=PASS, domain_id=default.id)
        for r in ("admin", "service"):
            idn.assign_project_role_to_user(service, user, roles[r])
    tu = get_or_create(idn.find_user, idn.create_user, USER,
                       password=USER_PASS, domain_id=default.id)
    idn.update_user(tu, password=USER_PASS)
    for r in ("member", "reader"):
        idn.assign_project_role_to_user(proj, tu, roles[r])
    admin = idn.find_user("admin")
    idn.assign_project_role_to_user(proj, admin, roles["admin"])

    catalog = [
        ("glance", "image", "http://%s:9292" % IP, None),
        ("placement", "placement", "http://%s:8778" % IP, None),
        ("nova", "compute", "http://%s:8774/v2.1" % IP, None),
        ("neutron", "network", "http://%s:9696" % IP, None),
        ("cinderv3", "volumev3", "http://%s:8776/v3/%%(project_id)s" % IP, None),
        ("cinder", "block-storage", "http://%s:8776/v3/%%(project_id)s" % IP, None),
        ("swift", "object-store", "http://%s:8080/v1/AUTH_%%(project_id)s" % IP,
         "http://%s:8080/v1" % IP),
    ]
    existing = {s.type: s for s in idn.services()}
    for name, stype, url, admin_url in catalog:
        svc = existing.get(stype) or idn.create_service(name=name, type=stype)
        have = {e.interface for e in idn.endpoints(service_id=svc.id)}
        for iface in ("public", "internal", "admin"):
            if iface not in have:
                idn.create_endpoint(
                    service_id=svc.id, interface=iface,
                    url=(admin_url if iface == "admin" and admin_url else url),
                    region_id=REGION)
    print("keystone bootstrap ok")


HEAT_OWNER, HEAT_USER, HEAT_DOMAIN = "heat_stack_owner", "heat_stack_user", "heat"


def heat():
    """Heat in Keystone: the heat user (admin and service in the service
    project, the trustee of every stack's trust), the orchestration
    endpoints, the stack domain "heat" with its admin heat_domain_admin
    (stack_domain_admin in heat.conf), the roles heat_stack_owner (given to
    the test user and admin in the test projects) and heat_stack_user (the
    role Heat gives the users it creates in the stack domain)."""
    c = conn()
    idn = c.identity
    default = idn.find_domain("default")
    service = idn.find_project("service")
    roles = {r: get_or_create(idn.find_role, idn.create_role, r)
             for r in ("admin", "service", HEAT_OWNER, HEAT_USER)}
    hu = get_or_create(idn.find_user, idn.create_user, "heat",
                       password=PASS, domain_id=default.id)
    for r in ("admin", "service"):
        idn.assign_project_role_to_user(service, hu, roles[r])
    existing = {s.type: s for s in idn.services()}
    svc = existing.get("orchestration") or idn.create_service(
        name="heat", type="orchestration")
    have = {e.interface for e in idn.endpoints(service_id=svc.id)}
    for iface in ("public", "internal", "admin"):
        if iface not in have:
            idn.create_endpoint(service_id=svc.id, interface=iface,
                                url="http://%s:8004/v1/%%(project_id)s" % IP,
                                region_id=REGION)
    hd = get_or_create(idn.find_domain, idn.create_domain, HEAT_DOMAIN,
                       description="Heat: stack projects and users")
    hda = idn.find_user("heat_domain_admin", domain_id=hd.id)
    if not hda:
        hda = idn.create_user(name="heat_domain_admin", password=PASS,
                              domain_id=hd.id)
    idn.update_user(hda, password=PASS)
    idn.assign_domain_role_to_user(hd, hda, roles["admin"])
    tu, admin = idn.find_user(USER), idn.find_user("admin")
    for name in (PROJECT, NOSTORE_PROJECT):
        proj = idn.find_project(name)
        if proj:  # the nostore project is made later, by resources
            idn.assign_project_role_to_user(proj, tu, roles[HEAT_OWNER])
            idn.assign_project_role_to_user(proj, admin, roles[HEAT_OWNER])
    print("keystone heat bootstrap ok")


def dask_version():
    out = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import distributed; print(distributed.__version__)"],
        capture_output=True, text=True, check=True)
    return out.stdout.strip()


def ensure_image(c, name, props):
    img = c.image.find_image(name)
    if not img:
        path = "/var/lib/glance/saharagen-testbed.img"
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(b"\0" * 1024 * 1024)
        img = c.create_image(name, filename=path, disk_format="raw",
                             container_format="bare", visibility="public",
                             wait=True, meta=props)
        img = c.image.get_image(img.id)
    props = dict(props)
    have = img.properties or {}
    missing = {k: v for k, v in props.items() if have.get(k) != v}
    if img.visibility != "public":  # both test projects boot from them
        missing["visibility"] = "public"
    if missing:
        c.image.update_image(img, **missing)
    return img.id


def set_quotas(c, project_id):
    """Generous quotas (tests may lower them with Env.SetQuota)."""
    c.set_compute_quotas(project_id, instances=100, cores=400, ram=409600,
                         key_pairs=100, server_groups=50,
                         server_group_members=50, metadata_items=128)
    c.network.update_quota(project_id, network=50, subnet=50, port=500,
                           router=20, floatingip=100, security_group=100,
                           security_group_rule=1000)
    c.set_volume_quotas(project_id, volumes=100, gigabytes=2000, snapshots=50)


def nostore(c, private):
    """Project saharagen-nostore: a cloud without object storage.

    The test user (and admin) get the roles they have in the main project;
    every endpoint but the object-store ones is associated with the project
    (OS-EP-FILTER: once a project has associations, its project-scoped
    tokens list only those endpoints); the tenant network is shared with it
    (Neutron RBAC access_as_shared: same subnet, router, bridge and floating
    IPs as the main project); quotas as the main project's. The images are
    public, the flavors public, the external network is external to all.
    """
    idn = c.identity
    default = idn.find_domain("default")
    proj = get_or_create(idn.find_project, idn.create_project,
                         NOSTORE_PROJECT, domain_id=default.id,
                         description="saharagen testbed project without "
                                     "object storage in its catalog")
    roles = {r: idn.find_role(r) for r in ("admin", "member", "reader")}
    tu = idn.find_user(USER)
    for r in ("member", "reader"):
        idn.assign_project_role_to_user(proj, tu, roles[r])
    owner = idn.find_role(HEAT_OWNER)
    if owner:
        idn.assign_project_role_to_user(proj, tu, owner)
    idn.assign_project_role_to_user(proj, idn.find_user("admin"),
                                    roles["admin"])

    types = {s.id: s.type for s in idn.services()}
    endpoints = list(idn.endpoints())
    want = {e.id for e in endpoints
            if types.get(e.service_id) not in NOSTORE_HIDDEN}
    base = "/OS-EP-FILTER/projects/%s/endpoints" % proj.id
    r = idn.get(base)
    exceptions.raise_from_response(r)
    have = {e["id"] for e in r.json()["endpoints"]}
    for eid in sorted(want - have):
        exceptions.raise_from_response(idn.put(base + "/" + eid))
    for eid in sorted(have - want):  # object-store ones, or gone
        r = idn.delete(base + "/" + eid)
        if r.status_code != 404:
            exceptions.raise_from_response(r)

    net = c.network
    if not list(net.rbac_policies(object_type="network",
                                  object_id=private.id,
                                  action="access_as_shared",
                                  target_project_id=proj.id)):
        net.create_rbac_policy(object_type="network", object_id=private.id,
                               action="access_as_shared",
                               target_project_id=proj.id)
    set_quotas(c, proj.id)
    return proj


# What a project's user typically adds to the "default" security group of a
# fresh project, which only admits its own members: SSH and ping from
# anywhere.  The provider SSHes into clusters that have no security group of
# their own from this host (the testbed enforces security groups: sgsync.py).
DEFAULT_GROUP_RULES = [
    {"ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
     "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
    {"ethertype": "IPv6", "protocol": "tcp", "port_range_min": 22,
     "port_range_max": 22, "remote_ip_prefix": "::/0"},
    {"ethertype": "IPv4", "protocol": "icmp", "remote_ip_prefix": "0.0.0.0/0"},
    {"ethertype": "IPv6", "protocol": "ipv6-icmp", "remote_ip_prefix": "::/0"},
]


def open_default_group(project):
    """Adds DEFAULT_GROUP_RULES to the project's default group (the test
    user does it, as a user would; listing the groups makes Neutron create
    the default one).  Idempotent: only missing rules are created."""
    u = conn(project.name, USER, USER_PASS).network
    sgs = list(u.security_groups(name="default", project_id=project.id))
    if len(sgs) != 1:
        sys.exit("project %s: %d security groups named default"
                 % (project.name, len(sgs)))
    sg = sgs[0]

    def key(r):
        return (r["ethertype"], r["protocol"], r.get("port_range_min"),
                r.get("port_range_max"), r["remote_ip_prefix"])
    have = {key(r) for r in sg.security_group_rules
            if r["direction"] == "ingress" and not r.get("remote_group_id")}
    added = 0
    for want in DEFAULT_GROUP_RULES:
        if key(want) not in have:
            u.create_security_group_rule(security_group_id=sg.id,
                                         direction="ingress", **want)
            added += 1
    if added:
        print("project %s: %d rules added to its default security group "
              "(SSH, ICMP from anywhere)" % (project.name, added))


def resources():
    c = conn()
    want = int(os.environ.get("NUM_COMPUTE", "5"))
    deadline = time.time() + 240
    while True:
        hyps = [h for h in c.compute.hypervisors(details=True)
                if h.state == "up" and h.status == "enabled"]
        rps = list(c.placement.resource_providers())
        if len(hyps) >= want and len(rps) >= want:
            break
        if time.time() > deadline:
            sys.exit("only %d hypervisors / %d resource providers after 240s"
                     % (len(hyps), len(rps)))
        time.sleep(1)
    print("compute hosts:", sorted(h.name for h in hyps))

    if os.environ.get("CLEAN_GHOSTS") == "1":
        # the instances died with testbed-down or a reboot; their Nova records
        # would only mislead tests: delete them (Nova frees ports, volumes)
        ghosts = list(c.compute.servers(all_projects=True))
        for s in ghosts:
            try:
                c.compute.delete_server(s.id)
            except Exception as e:
                print("could not delete ghost server %s: %s" % (s.id, e))
        if ghosts:
            print("deleted %d ghost servers (their instances were gone)"
                  % len(ghosts))

    flavors = {}
    for name, vcpus, ram, disk in (("m1.tiny", 1, 256, 1),
                                   ("m1.small", 1, 512, 1),
                                   ("m1.medium", 2, 2048, 10),
                                   ("m1.large", 4, 4096, 20),
                                   ("m1.xlarge", 8, 8192, 40)):
        f = c.compute.find_flavor(name) or c.compute.create_flavor(
            name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)
        flavors[name] = f.id

    dv = dask_version()
    dvs = [dv] + ([dv.split("+")[0]] if "+" in dv else [])
    specs = {"fake": ["0.1"], "vanilla": VANILLA, "dask": dvs}
    images = {}
    for plugin, versions in specs.items():
        props = {"_sahara_username": IMAGE_USER,
                 "_sahara_tag_" + plugin: "True"}
        for v in versions:
            props["_sahara_tag_" + v] = "True"
        images[plugin] = ensure_image(c, "saharagen-" + plugin, props)

    proj = c.identity.find_project(PROJECT)
    net = c.network
    public = net.find_network(PUB)
    if not public:
        public = net.create_network(
            name=PUB, is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network="public")
    if not list(net.subnets(network_id=public.id)):
        net.create_subnet(network_id=public.id, name="public-subnet",
                          ip_version=4, cidr=PUB_CIDR, gateway_ip=PUB_GW,
                          is_dhcp_enabled=False,
                          allocation_pools=[{"start": "172.24.4.10",
                                             "end": "172.24.4.250"}])
    private = net.find_network(NET, project_id=proj.id)
    if not private:
        private = net.create_network(name=NET, project_id=proj.id)
    sub = net.find_subnet(SUBNET, network_id=private.id)
    if not sub:
        sub = net.create_subnet(network_id=private.id, name=SUBNET,
                                ip_version=4, cidr=CIDR, gateway_ip=GW,
                                dns_nameservers=[], project_id=proj.id)
    router = net.find_router("saharagen-router", project_id=proj.id)
    if not router:
        router = net.create_router(
            name="saharagen-router", project_id=proj.id,
            external_gateway_info={"network_id": public.id})
        net.add_interface_to_router(router, subnet_id=sub.id)

    set_quotas(c, proj.id)
    ns = nostore(c, private)
    for project in (proj, ns):
        open_default_group(project)

    write_files(proj.id, ns.id, flavors, images, dv, public, private, sub,
                router, len(hyps))
    print("resources ok")


def write(path, text):
    """Replace path at once (tests may be reading it), mode 0600."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_files(project_id, nostore_id, flavors, images, dv, public, private,
                sub, router, nhosts):
    d = os.environ["TB_DIR"]
    os.makedirs(d, exist_ok=True)
    clouds = os.path.join(d, "clouds.yaml")
    env = {
        "cloud": CLOUD,
        "clouds_yaml": clouds,
        "auth_url": KS,
        "username": USER,
        "password": USER_PASS,
        "project_name": PROJECT,
        "project_id": project_id,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
        "region": REGION,
        "admin_username": "admin",
        "admin_password": PASS,
        "admin_project_name": "admin",
        "admin_cloud": CLOUD + "-admin",
        "flavor_id": flavors["m1.small"],
        "flavor_name": "m1.small",
        "flavors": flavors,
        "network_id": private.id,
        "network_name": private.name,
        "subnet_id": sub.id,
        "subnet_cidr": sub.cidr,
        "router_id": router.id,
        "external_network_id": public.id,
        "external_network_name": public.name,
        "external_cidr": PUB_CIDR,
        "image_user": IMAGE_USER,
        "dask_version": dv,
        "images": images,
        "image_names": {k: "saharagen-" + k for k in images},
        "compute_hosts": nhosts,
        # same user, images, flavors and (shared) network; no object-store
        "nostore_cloud": NOSTORE_CLOUD,
        "nostore_project_name": NOSTORE_PROJECT,
        "nostore_project_id": nostore_id,
    }
    write(os.path.join(d, "env.json"),
          json.dumps(env, indent=2, sort_keys=True) + "\n")

    def cloud(name, user, pw, project):
        return ("  %s:\n    auth:\n      auth_url: %s\n      username: %s\n"
                "      password: %s\n      project_name: %s\n"
                "      user_domain_name: Default\n"
                "      project_domain_name: Default\n"
                "    region_name: %s\n    interface: public\n"
                "    identity_api_version: 3\n"
                % (name, KS, user, pw, project, REGION))
    write(clouds, "clouds:\n" + cloud(CLOUD, USER, USER_PASS, PROJECT)
          + cloud(CLOUD + "-admin", "admin", PASS, "admin")
          + cloud(NOSTORE_CLOUD, USER, USER_PASS, NOSTORE_PROJECT))

    def rc(user, pw, project):
        return ("export OS_AUTH_URL=%s\nexport OS_IDENTITY_API_VERSION=3\n"
                "export OS_USERNAME=%s\nexport OS_PASSWORD=%s\n"
                "export OS_PROJECT_NAME=%s\nexport OS_USER_DOMAIN_NAME=Default\n"
                "export OS_PROJECT_DOMAIN_NAME=Default\n"
                "export OS_REGION_NAME=%s\nexport OS_INTERFACE=public\n"
                % (KS, user, pw, project, REGION))
    write(os.path.join(d, "openrc"), rc(USER, USER_PASS, PROJECT))
    write(os.path.join(d, "openrc-nostore"),
          rc(USER, USER_PASS, NOSTORE_PROJECT))
    write(os.path.join(d, "openrc-admin"), rc("admin", PASS, "admin"))


if __name__ == "__main__":
    {"keystone": keystone, "heat": heat, "resources": resources}[sys.argv[1]]()

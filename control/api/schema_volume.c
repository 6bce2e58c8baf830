/* Schema tables of core/v1 Volume: every volume source is a known key; the sources skiff
 * can run (emptyDir, hostPath, configMap, secret, PVC, projected, downwardAPI, image) are
 * described fully, the cloud and network ones are opaque objects. */
#include "api/schema_table.h"

SCHEMA_OPAQUE(GCEPersistentDiskVolumeSource);
SCHEMA_OPAQUE(AWSElasticBlockStoreVolumeSource);
SCHEMA_OPAQUE(GitRepoVolumeSource);
SCHEMA_OPAQUE(NFSVolumeSource);
SCHEMA_OPAQUE(ISCSIVolumeSource);
SCHEMA_OPAQUE(GlusterfsVolumeSource);
SCHEMA_OPAQUE(RBDVolumeSource);
SCHEMA_OPAQUE(FlexVolumeSource);
SCHEMA_OPAQUE(CinderVolumeSource);
SCHEMA_OPAQUE(CephFSVolumeSource);
SCHEMA_OPAQUE(FlockerVolumeSource);
SCHEMA_OPAQUE(FCVolumeSource);
SCHEMA_OPAQUE(AzureFileVolumeSource);
SCHEMA_OPAQUE(VsphereVirtualDiskVolumeSource);
SCHEMA_OPAQUE(QuobyteVolumeSource);
SCHEMA_OPAQUE(AzureDiskVolumeSource);
SCHEMA_OPAQUE(PhotonPersistentDiskVolumeSource);
SCHEMA_OPAQUE(PortworxVolumeSource);
SCHEMA_OPAQUE(ScaleIOVolumeSource);
SCHEMA_OPAQUE(StorageOSVolumeSource);
SCHEMA_OPAQUE(CSIVolumeSource);
SCHEMA_OPAQUE(EphemeralVolumeSource);

SCHEMA_STRUCT(HostPathVolumeSource,
	STR("path"),
	STR("type"));

SCHEMA_STRUCT(EmptyDirVolumeSource,
	STR("medium"),
	QTY("sizeLimit"));

SCHEMA_STRUCT(KeyToPath,
	STR("key"),
	STR("path"),
	I32("mode"));

SCHEMA_STRUCT(SecretVolumeSource,
	STR("secretName"),
	ARR_OBJ("items", KeyToPath),
	I32("defaultMode"),
	BOOL("optional"));

SCHEMA_STRUCT(ConfigMapVolumeSource,
	STR("name"),
	ARR_OBJ("items", KeyToPath),
	I32("defaultMode"),
	BOOL("optional"));

SCHEMA_STRUCT(PersistentVolumeClaimVolumeSource,
	STR("claimName"),
	BOOL("readOnly"));

SCHEMA_STRUCT(DownwardAPIVolumeFile,
	STR("path"),
	OBJ("fieldRef", ObjectFieldSelector),
	OBJ("resourceFieldRef", ResourceFieldSelector),
	I32("mode"));

SCHEMA_STRUCT(DownwardAPIVolumeSource,
	ARR_OBJ("items", DownwardAPIVolumeFile),
	I32("defaultMode"));

SCHEMA_STRUCT(SecretProjection,
	STR("name"),
	ARR_OBJ("items", KeyToPath),
	BOOL("optional"));

SCHEMA_STRUCT(ConfigMapProjection,
	STR("name"),
	ARR_OBJ("items", KeyToPath),
	BOOL("optional"));

SCHEMA_STRUCT(DownwardAPIProjection,
	ARR_OBJ("items", DownwardAPIVolumeFile));

SCHEMA_STRUCT(ServiceAccountTokenProjection,
	STR("audience"),
	I64("expirationSeconds"),
	STR("path"));

SCHEMA_STRUCT(ClusterTrustBundleProjection,
	STR("name"),
	STR("signerName"),
	OBJ("labelSelector", LabelSelector),
	BOOL("optional"),
	STR("path"));

SCHEMA_STRUCT(VolumeProjection,
	OBJ("secret", SecretProjection),
	OBJ("downwardAPI", DownwardAPIProjection),
	OBJ("configMap", ConfigMapProjection),
	OBJ("serviceAccountToken", ServiceAccountTokenProjection),
	OBJ("clusterTrustBundle", ClusterTrustBundleProjection));

SCHEMA_STRUCT(ProjectedVolumeSource,
	ARR_OBJ("sources", VolumeProjection),
	I32("defaultMode"));

SCHEMA_STRUCT(ImageVolumeSource,
	STR("reference"),
	STR("pullPolicy"));

SCHEMA_SHARED(Volume,
	STR("name"),
	OBJ("hostPath", HostPathVolumeSource),
	OBJ("emptyDir", EmptyDirVolumeSource),
	OBJ("gcePersistentDisk", GCEPersistentDiskVolumeSource),
	OBJ("awsElasticBlockStore", AWSElasticBlockStoreVolumeSource),
	OBJ("gitRepo", GitRepoVolumeSource),
	OBJ("secret", SecretVolumeSource),
	OBJ("nfs", NFSVolumeSource),
	OBJ("iscsi", ISCSIVolumeSource),
	OBJ("glusterfs", GlusterfsVolumeSource),
	OBJ("persistentVolumeClaim", PersistentVolumeClaimVolumeSource),
	OBJ("rbd", RBDVolumeSource),
	OBJ("flexVolume", FlexVolumeSource),
	OBJ("cinder", CinderVolumeSource),
	OBJ("cephfs", CephFSVolumeSource),
	OBJ("flocker", FlockerVolumeSource),
	OBJ("downwardAPI", DownwardAPIVolumeSource),
	OBJ("fc", FCVolumeSource),
	OBJ("azureFile", AzureFileVolumeSource),
	OBJ("configMap", ConfigMapVolumeSource),
	OBJ("vsphereVolume", VsphereVirtualDiskVolumeSource),
	OBJ("quobyte", QuobyteVolumeSource),
	OBJ("azureDisk", AzureDiskVolumeSource),
	OBJ("photonPersistentDisk", PhotonPersistentDiskVolumeSource),
	OBJ("projected", ProjectedVolumeSource),
	OBJ("portworxVolume", PortworxVolumeSource),
	OBJ("scaleIO", ScaleIOVolumeSource),
	OBJ("storageos", StorageOSVolumeSource),
	OBJ("csi", CSIVolumeSource),
	OBJ("ephemeral", EphemeralVolumeSource),
	OBJ("image", ImageVolumeSource));

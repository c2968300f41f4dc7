/*M!999999\- enable the sandbox mode */ 

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
DROP TABLE IF EXISTS `alerts`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `alerts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `title` varchar(256) NOT NULL,
  `content` mediumtext NOT NULL,
  `severity` varchar(16) NOT NULL,
  `format` varchar(16) NOT NULL,
  `status` varchar(24) NOT NULL,
  `idempotency_key` varchar(128) DEFAULT NULL,
  `mention_all` tinyint(1) NOT NULL,
  `mention_contacts` tinyint(1) NOT NULL,
  `test` tinyint(1) NOT NULL,
  `created_at` datetime(6) DEFAULT NULL,
  `updated_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_alerts_idempotency_key` (`idempotency_key`),
  KEY `ix_alerts_created` (`created_at`,`id`),
  KEY `ix_alerts_status_created` (`status`,`created_at`,`id`)
) ENGINE=InnoDB AUTO_INCREMENT=2 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `alerts` WRITE;
/*!40000 ALTER TABLE `alerts` DISABLE KEYS */;
INSERT INTO `alerts` VALUES
(1,'Disk full','91%','WARNING','MARKDOWN','PENDING','fixture-1',0,0,0,'2026-12-02 00:01:05.008502','2026-12-02 00:01:05.008502');
/*!40000 ALTER TABLE `alerts` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `api_tokens`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `api_tokens` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `role` varchar(16) NOT NULL,
  `hash` varchar(64) NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `last_used_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_api_tokens_hash` (`hash`)
) ENGINE=InnoDB AUTO_INCREMENT=2 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `api_tokens` WRITE;
/*!40000 ALTER TABLE `api_tokens` DISABLE KEYS */;
INSERT INTO `api_tokens` VALUES
(1,'ci','SENDER','b1712a84d9056ffbb3016dc781c41ad33ec7101b6c9f2dc96cc0ae6090de214a','2026-12-02 00:01:04.971',NULL);
/*!40000 ALTER TABLE `api_tokens` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `audit_entries`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `audit_entries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `at` datetime(6) NOT NULL,
  `token_name` varchar(64) NOT NULL,
  `token_role` varchar(16) NOT NULL,
  `operation` varchar(64) NOT NULL,
  `object_ids` mediumtext NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_audit_entries_at` (`at`)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `audit_entries` WRITE;
/*!40000 ALTER TABLE `audit_entries` DISABLE KEYS */;
INSERT INTO `audit_entries` VALUES
(1,'2026-12-02 00:01:04.832155','admin','ADMIN','createContactGroup','[\"1\"]'),
(2,'2026-12-02 00:01:04.835012','admin','ADMIN','createContactGroup','[\"2\"]'),
(3,'2026-12-02 00:01:04.871174','admin','ADMIN','createContact','[\"1\"]'),
(4,'2026-12-02 00:01:04.906085','admin','ADMIN','createContact','[\"2\"]'),
(5,'2026-12-02 00:01:04.941033','admin','ADMIN','createContact','[\"3\"]'),
(6,'2026-12-02 00:01:04.972918','admin','ADMIN','createApiToken','[\"1\"]');
/*!40000 ALTER TABLE `audit_entries` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `contact_groups`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `contact_groups` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `name_key` varchar(256) NOT NULL,
  `description` varchar(512) NOT NULL DEFAULT '',
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_contact_groups_name_key` (`name_key`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `contact_groups` WRITE;
/*!40000 ALTER TABLE `contact_groups` DISABLE KEYS */;
INSERT INTO `contact_groups` VALUES
(1,'Ops','ops','on call','2026-12-02 00:01:04.830','2026-12-02 00:01:04.830'),
(2,'Everyone','everyone','','2026-12-02 00:01:04.834','2026-12-02 00:01:04.834');
/*!40000 ALTER TABLE `contact_groups` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `contacts`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `contacts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(64) NOT NULL,
  `name_key` varchar(256) NOT NULL,
  `phone` varchar(20) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_contacts_name_key` (`name_key`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `contacts` WRITE;
/*!40000 ALTER TABLE `contacts` DISABLE KEYS */;
INSERT INTO `contacts` VALUES
(1,'Alice','alice','+8613800138000','2026-12-02 00:01:04.868','2026-12-02 00:01:04.868'),
(2,'Bob','bob',NULL,'2026-12-02 00:01:04.904','2026-12-02 00:01:04.904'),
(3,'Carol','carol',NULL,'2026-12-02 00:01:04.939','2026-12-02 00:01:04.939');
/*!40000 ALTER TABLE `contacts` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `deliveries`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `deliveries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `alert_id` bigint(20) unsigned NOT NULL,
  `platform` varchar(16) NOT NULL,
  `url` varchar(2048) NOT NULL,
  `url_hash` varchar(64) NOT NULL,
  `secret` varchar(1024) DEFAULT NULL,
  `keyword` varchar(64) DEFAULT NULL,
  `mention_phones` mediumtext DEFAULT NULL,
  `contact_ids` mediumtext DEFAULT NULL,
  `contact_names` mediumtext DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `next_attempt_at` datetime(6) DEFAULT NULL,
  `claim_token` varchar(32) DEFAULT NULL,
  `attempts` bigint(20) NOT NULL,
  `last_error` varchar(2048) DEFAULT NULL,
  `sent_at` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) DEFAULT NULL,
  `updated_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_deliveries_alert_status` (`alert_id`,`status`),
  KEY `ix_deliveries_robot` (`url_hash`,`status`,`next_attempt_at`),
  KEY `ix_deliveries_queue` (`status`,`next_attempt_at`),
  CONSTRAINT `fk_deliveries_alert` FOREIGN KEY (`alert_id`) REFERENCES `alerts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=2 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `deliveries` WRITE;
/*!40000 ALTER TABLE `deliveries` DISABLE KEYS */;
INSERT INTO `deliveries` VALUES
(1,1,'DINGTALK','https://oapi.dingtalk.com/robot/send?access_token=fixture-a','c82346a294c024fcd42108d36b0d89167ce5f9f1265c4a4edf96195e5c6f5351','hs1:97e24f04:su7VfVOdDuLDldCautVOmaR2WqQ2PV4M8NT6mGLxg47cU57d4ZQ',NULL,NULL,'[1]','[\"Alice\"]','PENDING','2026-12-02 00:01:10.609103',NULL,2,'send to DingTalk: Post \"https://oapi.dingtalk.com/robot/send?access_token=****&timestamp=1796169666724&sign=****\": dial tcp: lookup oapi.dingtalk.com on 10.255.255.53:53: no such host',NULL,'2026-12-02 00:01:05.008502','2026-12-02 00:01:06.726269');
/*!40000 ALTER TABLE `deliveries` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `delivery_attempts`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `delivery_attempts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `delivery_id` bigint(20) unsigned NOT NULL,
  `at` datetime(6) NOT NULL,
  `duration_ms` bigint(20) NOT NULL,
  `http_status` bigint(20) DEFAULT NULL,
  `platform_code` bigint(20) DEFAULT NULL,
  `outcome` varchar(16) NOT NULL,
  `error` varchar(2048) DEFAULT NULL,
  `coalesced` bigint(20) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_delivery_attempts_delivery` (`delivery_id`,`at`),
  CONSTRAINT `fk_delivery_attempts_delivery` FOREIGN KEY (`delivery_id`) REFERENCES `deliveries` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `delivery_attempts` WRITE;
/*!40000 ALTER TABLE `delivery_attempts` DISABLE KEYS */;
INSERT INTO `delivery_attempts` VALUES
(1,1,'2026-12-02 00:01:05.026668',2,NULL,NULL,'RETRYABLE','send to DingTalk: Post \"https://oapi.dingtalk.com/robot/send?access_token=****&timestamp=1796169665025&sign=****\": dial tcp: lookup oapi.dingtalk.com on 10.255.255.53:53: no such host',1),
(2,1,'2026-12-02 00:01:06.725136',1,NULL,NULL,'RETRYABLE','send to DingTalk: Post \"https://oapi.dingtalk.com/robot/send?access_token=****&timestamp=1796169666724&sign=****\": dial tcp: lookup oapi.dingtalk.com on 10.255.255.53:53: no such host',1);
/*!40000 ALTER TABLE `delivery_attempts` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `memberships`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `memberships` (
  `contact_id` bigint(20) unsigned NOT NULL,
  `group_id` bigint(20) unsigned NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`contact_id`,`group_id`),
  KEY `ix_memberships_group_contact` (`group_id`,`contact_id`),
  CONSTRAINT `fk_memberships_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE,
  CONSTRAINT `fk_memberships_group` FOREIGN KEY (`group_id`) REFERENCES `contact_groups` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `memberships` WRITE;
/*!40000 ALTER TABLE `memberships` DISABLE KEYS */;
INSERT INTO `memberships` VALUES
(1,1,'2026-12-02 00:01:04.870'),
(1,2,'2026-12-02 00:01:04.870'),
(2,2,'2026-12-02 00:01:04.905');
/*!40000 ALTER TABLE `memberships` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `robot_sends`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `robot_sends` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `url_hash` varchar(64) NOT NULL,
  `sent_at` datetime(6) NOT NULL,
  `settled` tinyint(1) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_robot_sends_robot` (`url_hash`,`sent_at`)
) ENGINE=InnoDB AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `robot_sends` WRITE;
/*!40000 ALTER TABLE `robot_sends` DISABLE KEYS */;
INSERT INTO `robot_sends` VALUES
(1,'c82346a294c024fcd42108d36b0d89167ce5f9f1265c4a4edf96195e5c6f5351','2026-12-02 00:01:05.029429',1),
(2,'c82346a294c024fcd42108d36b0d89167ce5f9f1265c4a4edf96195e5c6f5351','2026-12-02 00:01:06.726269',1);
/*!40000 ALTER TABLE `robot_sends` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `robots`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `robots` (
  `url_hash` varchar(64) NOT NULL,
  `platform` varchar(16) NOT NULL,
  `failures` bigint(20) NOT NULL,
  `paused_until` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) DEFAULT NULL,
  `updated_at` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`url_hash`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `robots` WRITE;
/*!40000 ALTER TABLE `robots` DISABLE KEYS */;
INSERT INTO `robots` VALUES
('c82346a294c024fcd42108d36b0d89167ce5f9f1265c4a4edf96195e5c6f5351','DINGTALK',2,NULL,'2026-12-02 00:01:05.008502','2026-12-02 00:01:06.726269');
/*!40000 ALTER TABLE `robots` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `webhooks`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `webhooks` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `contact_id` bigint(20) unsigned NOT NULL,
  `url_hash` varchar(64) NOT NULL,
  `url` varchar(2048) NOT NULL,
  `platform` varchar(16) NOT NULL,
  `secret` varchar(1024) DEFAULT NULL,
  `keyword` varchar(64) DEFAULT NULL,
  `position` bigint(20) NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_webhooks_contact_url` (`contact_id`,`url_hash`),
  CONSTRAINT `fk_webhooks_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `webhooks` WRITE;
/*!40000 ALTER TABLE `webhooks` DISABLE KEYS */;
INSERT INTO `webhooks` VALUES
(1,1,'c82346a294c024fcd42108d36b0d89167ce5f9f1265c4a4edf96195e5c6f5351','https://oapi.dingtalk.com/robot/send?access_token=fixture-a','DINGTALK','hs1:97e24f04:su7VfVOdDuLDldCautVOmaR2WqQ2PV4M8NT6mGLxg47cU57d4ZQ',NULL,0,'2026-12-02 00:01:04.869','2026-12-02 00:01:04.869'),
(2,2,'f43e98c69370e85854cbf09508d123e812675c103b347350bf4e4c14ef679ee3','https://open.feishu.cn/open-apis/bot/v2/hook/fixture-b','LARK',NULL,'alerts',0,'2026-12-02 00:01:04.905','2026-12-02 00:01:04.905'),
(3,3,'8528517831e7dd505736e37cac7547dc765708ce160c7818eb9f474f3e3967e4','https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=fixture-c','WECOM',NULL,NULL,0,'2026-12-02 00:01:04.940','2026-12-02 00:01:04.940');
/*!40000 ALTER TABLE `webhooks` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

